// Unit test settings: only test/** runs (never e2e/ or bench/), in happy-dom so modules that
// touch DOM types load. Owns test discovery only.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'happy-dom',
  },
});
