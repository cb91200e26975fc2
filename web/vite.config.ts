import { defineConfig } from "vitest/config";

// The API serves the build from its own origin; in `npm run dev`, /api is proxied to `iris serve`.
export default defineConfig({
  build: { target: "es2022", chunkSizeWarningLimit: 900 },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
