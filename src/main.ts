import { mount } from 'svelte';
import App from './App.svelte';
import { AppUpdate } from './state/app-update.svelte';
import './ui/theme.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

// The service worker exists only in a build (vite-plugin-pwa writes it); the dev server serves
// every module fresh and must not be cached.
const update = new AppUpdate({
  scriptUrl: `${import.meta.env.BASE_URL}sw.js`,
  scope: import.meta.env.BASE_URL,
  host: import.meta.env.PROD && 'serviceWorker' in navigator ? navigator.serviceWorker : null,
});
void update.start();

export default mount(App, { target, props: { update } });
