// One association: a dcmjs-dimse Scp whose C-STORE data goes straight into an ingest receiver on disk
// (the library's default buffers the whole object in memory). The response is sent only after
// ingest reports the object durable and catalogued.
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import dcmjsDimse from 'dcmjs-dimse';
import type { IngestService, InstanceReceiver, IngestOutcome } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError } from '../shared/errors.js';
import { chooseTransferSyntax } from './syntaxes.js';
import { decideAssociation, normaliseAddress, type AssociationPolicy } from './policy.js';
import { STATUS, storeStatusFor } from './status.js';

const { Scp, Dataset, constants, responses } = dcmjsDimse;
const { CStoreResponse, CEchoResponse } = responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, AbortSource, AbortReason } = constants;

type Association = dcmjsDimse.association.Association;
type PresentationContext = dcmjsDimse.association.PresentationContext;
type CStoreRequest = dcmjsDimse.requests.CStoreRequest;
type CEchoRequest = dcmjsDimse.requests.CEchoRequest;
type DimseDataset = dcmjsDimse.Dataset;

export interface ScpDeps {
  ingest: IngestService;
  policy: AssociationPolicy;
  log: Logger;
  activeAssociations: () => number;
  onStored?: (outcome: IngestOutcome) => void;
}

const REJECT_REASON = {
  'no-reason': RejectReason.NoReasonGiven,
  'calling-ae': RejectReason.CallingAeNotRecognized,
  'called-ae': RejectReason.CalledAeNotRecognized,
  'local-limit': RejectReason.LocalLimitExceeded,
} as const;

type StoreResult = { ok: true; outcome: IngestOutcome } | { ok: false; error: unknown };

export class PrecedentScp extends Scp {
  readonly id = randomUUID().slice(0, 8);
  private log: Logger;
  private receiver: InstanceReceiver | undefined;
  private readonly results = new WeakMap<DimseDataset, StoreResult>();
  private callingAETitle = '';
  private associated = false;
  private calledAETitle = '';
  private readonly remoteAddress: string;

  constructor(
    private readonly socket_: Socket,
    private readonly deps: ScpDeps,
    opts: ConstructorParameters<typeof Scp>[1],
  ) {
    super(socket_, opts);
    // Scp instances made by dcmjs-dimse's Server get these from it (or from a 'connect' event that an
    // accepted socket never emits); its association/idle timers rely on them.
    Object.assign(this, { connected: true, connectedTime: Date.now() });
    this.remoteAddress = normaliseAddress(socket_.remoteAddress ?? '');
    this.log = deps.log.child({ association: this.id, peer: this.remoteAddress });
    this.on('close', () => void this.dropReceiver('connection closed'));
    this.on('networkError', (err: Error) => {
      this.log.warn({ err: describeError(err) }, 'protocol or network error on association; aborting it');
      void this.dropReceiver('network error');
      this.abortAssociation();
    });
  }

  override associationRequested(association: Association): void {
    // A second A-ASSOCIATE-RQ on an established association is a protocol error (PS3.8 9.2, AA-8).
    if (this.associated) {
      this.log.warn('second association request on an open association; aborting');
      this.abortAssociation();
      return;
    }
    this.associated = true;
    this.callingAETitle = association.getCallingAeTitle().trim();
    this.calledAETitle = association.getCalledAeTitle().trim();
    this.log = this.log.child({ callingAETitle: this.callingAETitle, calledAETitle: this.calledAETitle });
    const decision = decideAssociation(this.deps.policy, {
      calledAETitle: this.calledAETitle,
      callingAETitle: this.callingAETitle,
      remoteAddress: this.remoteAddress,
      activeAssociations: this.deps.activeAssociations() - 1,
    });
    if (!decision.accept) {
      this.log.warn({ why: decision.why }, 'association rejected');
      this.sendAssociationReject(
        decision.transient ? RejectResult.Transient : RejectResult.Permanent,
        decision.source === 'service-user' ? RejectSource.ServiceUser : RejectSource.ServiceProviderPresentation,
        REJECT_REASON[decision.reason],
      );
      setTimeout(() => this.socket_.end(), 500).unref();
      return;
    }
    let accepted = 0;
    for (const { context } of association.getPresentationContexts()) {
      const ts = chooseTransferSyntax(context.getAbstractSyntaxUid(), context.getTransferSyntaxUids());
      if (ts) {
        context.setResult(PresentationContextResult.Accept, ts);
        accepted++;
      } else {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      }
    }
    this.log.info({ accepted, proposed: association.getPresentationContexts().length }, 'association accepted');
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    this.log.debug('association released');
    this.sendAssociationReleaseResponse();
  }

  override abort(): void {
    this.log.warn('association aborted by peer');
    void this.dropReceiver('aborted');
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: dcmjsDimse.responses.CEchoResponse) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(STATUS.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    const ts = context.getAcceptedTransferSyntaxUid() ?? '';
    this.receiver = this.deps.ingest.begin(
      {
        SOPClassUID: request.getAffectedSopClassUid(),
        SOPInstanceUID: request.getAffectedSopInstanceUid(),
        TransferSyntaxUID: ts,
        source: {
          protocol: 'dimse',
          callingAETitle: this.callingAETitle,
          calledAETitle: this.calledAETitle,
          remoteAddress: this.remoteAddress,
          associationId: this.id,
        },
      },
      this.log,
    );
    return this.receiver.stream;
  }

  override createDatasetFromStoreWritableStream(_writable: Writable, context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
    const receiver = this.receiver;
    // The library wants a Dataset to hand to cStoreRequest; ours is an empty token that carries the
    // result of making the object durable.
    const token = new Dataset({}, context.getAcceptedTransferSyntaxUid());
    if (!receiver) {
      this.results.set(token, { ok: false, error: new Error('no receiver for this C-STORE') });
      callback(token);
      return;
    }
    receiver.complete().then(
      (outcome) => this.results.set(token, { ok: true, outcome }),
      (error: unknown) => this.results.set(token, { ok: false, error }),
    ).finally(() => {
      if (this.receiver === receiver) this.receiver = undefined;
      callback(token);
    });
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: dcmjsDimse.responses.CStoreResponse) => void): void {
    const dataset = request.getDataset();
    const result: StoreResult = (dataset && this.results.get(dataset)) || { ok: false, error: new Error('C-STORE without data set') };
    const response = CStoreResponse.fromRequest(request);
    const uids = { SOPInstanceUID: request.getAffectedSopInstanceUid() };
    if (result.ok) {
      response.setStatus(STATUS.Success);
      const { disposition, version, StudyInstanceUID, reason } = result.outcome;
      this.log.info({ ...uids, StudyInstanceUID, disposition, version, ...(reason ? { reason } : {}) }, 'C-STORE stored');
      this.deps.onStored?.(result.outcome);
    } else {
      const { status, comment } = storeStatusFor(result.error);
      response.setStatus(status);
      response.setErrorComment(comment);
      this.log.warn({ ...uids, status: `0x${status.toString(16).padStart(4, '0')}`, err: describeError(result.error) }, 'C-STORE failed');
    }
    callback(response);
  }

  private async dropReceiver(why: string): Promise<void> {
    const receiver = this.receiver;
    if (!receiver) return;
    this.receiver = undefined;
    this.log.warn({ why }, 'partial object dropped (never acknowledged)');
    await receiver.discard();
  }

  /** Sends A-ABORT and closes the socket (used for shutdown). */
  abortAssociation(): void {
    try {
      this.sendAbort(AbortSource.ServiceProvider, AbortReason.NotSpecified);
    } catch {
      // the socket may already be gone
    }
    this.socket_.destroy();
  }
}
