// Worker-thread entry: registers tsx (a worker does not inherit the main thread's loader), then
// loads the TypeScript worker. Plain JS so Node can start it without a build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
await import('./workerMain.ts');
