/** The app's `package.json` version, injected at build time by Vite's `define` (vite.config.ts). */
declare const __APP_VERSION__: string;
