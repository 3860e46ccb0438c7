// Entry of `npm run bench`: every section prints its own table.
import { benchPipeline } from './pipeline.js';
import { benchIndex } from './index.js';

await benchPipeline();
await benchIndex();
