import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { contentSecurityPolicy } from './vite-plugins/content-security-policy';

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // The WebLLM runtime is a single multi-megabyte module; splitting it gains nothing.
    chunkSizeWarningLimit: 8000,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
