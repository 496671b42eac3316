// Vite build of the dashboard into web/dist (served by `wattguard serve`); `npm run dev` proxies
// the API to WATTGUARD_API (default http://127.0.0.1:8080) so the UI can be developed against a running server.
import { defineConfig } from "vite";

const api_target = process.env.WATTGUARD_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      "/api": {
        target: api_target,
        changeOrigin: true,
        ws: true,
        // `wattguard demo` serves HTTPS with a self-signed certificate (WATTGUARD_API=https://127.0.0.1:8080):
        // the dev proxy talks only to the developer's own server.
        secure: false,
        // The server refuses cookie-authenticated cross-origin requests and WebSockets; through the
        // dev proxy the page's origin is Vite's, so present the server's own origin instead.
        configure(proxy) {
          proxy.on("proxyReq", (req) => { if (req.getHeader("origin")) req.setHeader("origin", api_target); });
          proxy.on("proxyReqWs", (req) => { req.setHeader("origin", api_target); });
        },
      },
    },
  },
});
