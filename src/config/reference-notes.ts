// Curated prose for docs/configuration.md, keyed by configuration path. Keys without an entry here
// are documented from the JSDoc comment next to them in the schema files (src/config/*.ts); a key
// with neither shows as undocumented. Regenerate the reference with `npm run docs:config`.

export const SECTION_TITLES: Record<string, string> = {
  dimse: 'the DICOM listener',
  storage: 'where objects go',
  studies: 'study completion',
  queue: 'where analysis jobs wait',
  workers: 'who analyses',
  worker: 'a remote analysis worker (`precedent worker`)',
  inference: 'ONNX Runtime',
  model: 'the embedding model',
  index: 'similar-case search',
  archive: 'the historical archive',
  export: 'results back to the PACS',
  log: 'logging',
  dicomweb: 'STOW-RS in, QIDO-RS/WADO-RS of every stored object out',
  ops: 'health, readiness, metrics, status',
};

export const SECTION_NOTES: Record<string, string> = {
  dimse:
    'An AE title is 1–16 characters of printable ASCII without backslash (PS3.5); leading and trailing spaces are removed. Comparisons are case-sensitive. With `dimse.tls` the listener speaks DICOM TLS only (PS3.15 B.9, TLS 1.2 or later); the usual port is 2762. PEM files are read at start; an unreadable one stops the node with exit status 2.',
  studies: 'Images that arrive after a study completed start a new round; the study is queued again when that round completes.',
  worker:
    "Read by `precedent worker` only. A remote worker needs queue.redisUrl, these keys and the model folder (model.dir, the same name@version as the node's); it opens no catalog and no data directory. It claims each study round from the node's worker API, fetches the stored instances (compressed, as received) with the bearer token, decodes and embeds them, and hands the vectors back through Redis. Set the token from the environment (PRECEDENT_WORKER__TOKEN) rather than a file. See docs/operations.md.",
  dicomweb:
    'Off by default. Enabling it requires an explicit `auth`. Tokens are compared in constant time; give each sender its own token (with `aeTitle`) so metrics and export routing tell senders apart. `mtls` needs `tls.ca`: requests whose client certificate does not chain to it get 401; `tls.requireClientCert: true` refuses the TLS handshake itself. Set `publicUrl` when the node is reached through a proxy or by a DNS name, so that RetrieveURL values are right: without it they carry the IP address and port the request arrived on.',
  index:
    'The index file (`<dataDir>/index/<model>@<version>.usearch` and its `.json` description) is a cache: it is rebuilt from the embeddings in the catalog when missing, built for another model version or other `backend`/`dtype`/`connectivity`, or corrupt (SHA-256 mismatch). Changing `exactBelow`, `expansionAdd` or `expansionSearch` does not make the file stale; to apply them to the whole index, delete the file (it is rebuilt on the next start or query). See docs/operations.md.',
  archive:
    'The patient key is HMAC-SHA256(secret, IssuerOfPatientID + PatientID): same-patient exclusion without storing the ID. When `patientKeySecret` is unset a random one is written once to `<dataDir>/patient-key.secret` (mode 0600); every process sharing the dataDir uses it. Changing or losing the secret breaks same-patient exclusion and `precedent cases delete --patient` for cases stored before: re-import them.',
  ops: 'The operations API has no authentication: keep `ops.host` on loopback or a management network. `precedent worker` serves /healthz, /readyz and /metrics on `ops.workerPort` when it is set.',
};

export const KEY_NOTES: Record<string, string> = {
  'dimse.host': 'Address to listen on. `0.0.0.0`: every IPv4 interface; `::`: IPv6 (and IPv4 on dual-stack hosts); `127.0.0.1`: local only.',
  'dimse.port': 'TCP port. `0` picks a free port (tests). Ports below 1024 (e.g. 104) need `CAP_NET_BIND_SERVICE`.',
  'dimse.aeTitle': 'The called AE title Precedent answers to; any other called AE title is rejected.',
  'dimse.allowedCallingAETitles': 'Calling AE titles allowed to associate. Empty: any.',
  'dimse.allowedHosts':
    'Peer addresses allowed to associate: IPv4 or IPv6 addresses (exact match) or IPv4 CIDR blocks (`10.1.0.0/16`). Empty: any. Host names are not resolved. Every entry is validated (`999.1.1.1`, `10.0.0.0/33` or `10.0.0.0/` stop the node with exit status 2), and the node warns at start when no peer it can accept would match the list (IPv6 entries only on an IPv4 listener, only unspecified addresses, no loopback entry on a loopback listener).',
  'dimse.maxAssociations': 'Simultaneous connections. Beyond it, associations are rejected as transient (local-limit-exceeded).',
  'dimse.maxPduLength': 'Maximum PDU length in bytes that Precedent offers to receive.',
  'dimse.idleTimeoutSeconds': 'An association with no PDU received for this long is aborted (checked once per second).',
  'storage.dataDir':
    'Root of everything Precedent stores: `instances/`, `results/`, `tmp/`, `catalog.sqlite`. Created if missing. Relative to the working directory.',
  'storage.minFreeBytes':
    'Free-disk watermark on the file system of `dataDir`. Below it, C-STOREs are refused with 0xA700, STOW-RS requests with HTTP 507, and /readyz answers 503. `0` disables the check.',
  'storage.maxInstanceBytes': 'Largest data set accepted, in bytes as received; larger ones are refused with 0xA700 (STOW-RS: Failure Reason 0xA700).',
  'storage.retention':
    "Removes received source objects once they are no longer needed: those of a study `removeSourceAfterDays` after its analysis was done, and, above `maxSourceBytes`, those of the oldest done studies first. Only done studies are touched (never one still receiving, queued or being analysed). Catalog rows (with `path` emptied), embeddings, case thumbnails and result objects are kept: results stay retrievable and exportable, similar-case pages draw the stored thumbnails, and images that arrive later start a round that analyses only what is still on disk. An object sent again after removal is acknowledged as a duplicate and not stored. `precedent status` (and the operations API's /status) shows what was removed. Off by default.",
  'storage.keepIgnored':
    'Keep the files of objects that are acknowledged but not analysed (other SOP classes, lateral views, …). Their catalog entries are kept either way.',
  'studies.completeAfterSeconds': 'A study is complete this long after its last analysable instance.',
  'studies.maxWaitSeconds': 'Hard cap: a study is complete this long after the first analysable instance of its current round, even if images keep arriving.',
  'studies.checkIntervalSeconds': 'How often complete studies are looked for.',
  'queue.redisUrl':
    'Unset: the in-process queue (one machine; durability from the catalog). Set: BullMQ on this Redis, which `precedent worker` processes share. Redis must run with `appendonly yes` and `maxmemory-policy noeviction`; the node logs an error at start otherwise, and refuses to start if Redis is unreachable.',
  'queue.prefix': 'Redis key prefix.',
  'queue.attempts': 'Attempts per job, the first included. Permanent failures (undecodable pixels, invalid data) are never retried.',
  'queue.backoffSeconds': 'First retry delay; doubles on each retry.',
  'queue.lockSeconds': 'BullMQ only: a job whose worker stops renewing its lock this long (killed, hung) is retried by another worker.',
  'workers.inProcess': 'Analyse inside `precedent serve`. Turn off when `precedent worker` processes do it.',
  'workers.concurrency': 'Studies analysed at once per process.',
  'workers.imageThreads':
    'Worker threads for image work, in each of two pools: decoding analysed images, and drawing result objects (heatmap, similar-case thumbnails). One image or result each at a time, so that a full-size JPEG 2000 radiograph never holds up the thread that answers associations. `precedent import --dicom` decodes that many files at once. Raise it with workers.concurrency on machines with spare cores.',
  'inference.device': '`auto` and `cuda` try the CUDA provider and fall back to CPU with one warning.',
  'inference.threads': 'Intra-op threads per session; 0 lets ONNX Runtime decide.',
  'inference.batchSize': 'Images per inference batch.',
  'inference.workerThreads': 'Worker threads running inference, each with its own session (never the thread that answers associations).',
  'model.dir':
    'Folder with `model.onnx` and `model.json` (the model contract, models/README.md). Without a model, complete studies stay queued until one is installed; `precedent worker` refuses to start.',
  'log.level': 'Minimum level written (JSON lines on standard output).',
  'export.callingAETitle': 'Calling AE title of the C-STORE SCU that sends results.',
  'export.destinations':
    'Where results go: DIMSE destinations (`name`, `aeTitle`, `host`, `port`, optional `tls`) and DICOMweb destinations (`name`, `url`, optional `token` or `basic`), each with optional `forCallingAETitles`. Names must be unique. An entry that is neither kind is reported with the problems of the kind it comes closest to.',
  'export.maxAttempts': 'Delivery attempts per object and destination before it is marked failed (`precedent exports retry` makes it due again).',
  'export.backoffSeconds': 'First retry delay per object and destination; doubles on each attempt.',
  'export.maxBackoffSeconds': 'Cap of the retry delay.',
  'export.timeoutSeconds':
    'C-STORE: longest silence of a destination within a delivery pass (connecting, association negotiation, each response; every C-STORE response restarts it). STOW-RS: longest time without progress (body bytes taken by the destination, or the response), not the whole request.',
  'export.stowBatchMaxBytes':
    'STOW-RS: largest request body; due objects are sent in successive requests of at most this size, each recorded as it is answered, so a slow destination works through a backlog request by request. An object larger than it goes alone.',
  'export.checkIntervalSeconds': 'How often due deliveries are looked for.',
};
