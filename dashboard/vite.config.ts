import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// Built by `npm run build` (and `npm install`'s prepare) into dist/dashboard, which the gateway serves.
export default defineConfig({
  base: "/dashboard/",
  plugins: [preact()],
  logLevel: "warn",
  build: {
    outDir: "../dist/dashboard",
    emptyOutDir: true,
    // Every asset is a file of its own: the pages' Content-Security-Policy allows 'self' only, no data: URLs.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
