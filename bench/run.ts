// Entry of `npm run bench`: every section prints its own table. BENCH_ONLY=ingest,pipeline,loop,index,e2e,qido,remote picks sections.
import { benchPipeline } from './pipeline.js';
import { benchIndex } from './index.js';
import { benchResponsiveness } from './responsiveness.js';
import { benchEndToEnd } from './e2e.js';
import { benchQido } from './qido.js';
import { benchIngest } from './ingest.js';
import { benchRemote } from './remote.js';

const only = new Set((process.env.BENCH_ONLY ?? 'ingest,pipeline,loop,index,e2e,qido,remote').split(','));
if (only.has('ingest')) await benchIngest();
if (only.has('pipeline')) await benchPipeline();
if (only.has('loop')) await benchResponsiveness();
if (only.has('index')) await benchIndex();
if (only.has('e2e')) await benchEndToEnd();
if (only.has('qido')) await benchQido();
if (only.has('remote')) await benchRemote();
