// One association: a dcmjs-dimse Scp whose C-STORE data goes straight into an ingest receiver on disk
// (the library's default buffers the whole object in memory). The response is sent only after
// ingest reports the object durable and catalogued.
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import dcmjsDimse from 'dcmjs-dimse';
import type { IngestService, InstanceReceiver, IngestOutcome } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError } from '../shared/errors.js';
import { chooseTransferSyntax } from './syntaxes.js';
import { decideAssociation, normaliseAddress, type AssociationPolicy } from './policy.js';
import { STATUS, storeStatusFor } from './dimse-status.js';
import { pauseWhileFull } from './backpressure.js';
import { PduGate } from './pdu-gate.js';
import { withDirectCommandEncoding } from './command-set.js';

/** A-ABORT: type 7, length 4, source 2 (service provider), reason 0 (not specified). */
const A_ABORT = Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x00]);

/** Swallows writes: the stream handed to dcmjs-dimse after a C-STORE could not be started. */
class Sink extends Writable {
  override _write(_chunk: Buffer, _enc: BufferEncoding, callback: () => void): void {
    callback();
  }
}

const { Scp, Dataset, constants, responses } = dcmjsDimse;
const { CStoreResponse, CEchoResponse } = responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = constants;

type Association = dcmjsDimse.association.Association;
type PresentationContext = dcmjsDimse.association.PresentationContext;
type CStoreRequest = dcmjsDimse.requests.CStoreRequest;
type CEchoRequest = dcmjsDimse.requests.CEchoRequest;
type DimseDataset = dcmjsDimse.Dataset;

export interface ScpDeps {
  ingest: IngestService;
  policy: AssociationPolicy;
  log: Logger;
  /** Accepted associations on the node, this one excluded while it is being decided. */
  activeAssociations: () => number;
  /** The Maximum Length we announce (dimse.maxPduLength): incoming P-DATA-TF PDUs are bounded by it. */
  maxPduLength: number;
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
  private acceptedContexts: ReadonlySet<number> | undefined;
  private announcedMaxPdu: number | undefined;
  private closing = false;
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
    this.guardIncoming(new PduGate({ maxPduLength: () => this.announcedMaxPdu ?? deps.maxPduLength, acceptedContexts: () => this.acceptedContexts }));
    this.on('close', () => void this.dropReceiver('connection closed'));
    this.on('networkError', (err: Error) => {
      this.log.warn({ err: describeError(err) }, 'protocol or network error on association; aborting it');
      void this.dropReceiver('network error');
      this.abortAssociation();
    });
  }

  /** True once the A-ASSOCIATE-AC is sent: only these count against dimse.maxAssociations. */
  isAssociated(): boolean {
    return this.acceptedContexts !== undefined && !this.closing;
  }

  /** True once an A-ASSOCIATE-RQ arrived (ARTIM stops waiting for one). */
  hasRequested(): boolean {
    return this.associated;
  }

  /**
   * Every byte from the peer goes through the gate before dcmjs-dimse sees it: the library's own
   * 'data' listeners are taken off the socket and fed whole, checked PDUs only.
   */
  private guardIncoming(gate: PduGate): void {
    const library = this.socket_.listeners('data') as Array<(chunk: Buffer) => void>;
    this.socket_.removeAllListeners('data');
    this.socket_.on('data', (chunk: Buffer) => {
      if (this.closing) return;
      this.contain('receiving a PDU', () => {
        for (const verdict of gate.push(chunk)) {
          if (verdict.kind === 'pass') {
            for (const listener of library) listener.call(this.socket_, verdict.pdu);
          } else if (verdict.kind === 'reject') {
            this.log.warn({ code: 'ASSOCIATION_REFUSED', why: verdict.why }, 'association rejected');
            this.closing = true;
            this.sendAssociationReject(verdict.result, verdict.source, verdict.reason);
            this.socket_.end();
            setTimeout(() => this.socket_.destroy(), 2000).unref();
          } else {
            this.log.warn({ code: 'PROTOCOL_VIOLATION', why: verdict.why }, 'protocol violation; aborting the association');
            void this.dropReceiver('protocol violation');
            this.abortAssociation();
          }
        }
      });
      pauseWhileFull(this.socket_, this.receiver?.stream);
    });
  }

  /**
   * Runs one step of this association; anything it throws (ours or dcmjs-dimse's) ends this
   * association with an A-ABORT and a logged code, never the process.
   */
  private contain<T>(during: string, step: () => T, fallback?: () => T): T | undefined {
    try {
      return step();
    } catch (err) {
      this.log.error({ code: 'ASSOCIATION_FAILED', during, err: describeError(err) }, 'unexpected error on association; aborting it');
      void this.dropReceiver('unexpected error');
      this.abortAssociation();
      return fallback?.();
    }
  }

  override associationRequested(association: Association): void {
    this.contain('deciding the association', () => this.decide(association));
  }

  private decide(association: Association): void {
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
      activeAssociations: this.deps.activeAssociations(),
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
    // dcmjs-dimse keeps one maximum per association, the requestor's, and announces min(theirs, ours):
    // a requestor's 16384 would shrink what we receive, and its 0 ("no limit") would make ours
    // unlimited. Each side announces what it receives (PS3.8 D.1), so ours goes into the
    // A-ASSOCIATE-AC, and the requestor's is put back because the library also sends within it.
    const requestorMaxPdu = association.getMaxPduLength();
    association.setMaxPduLength(this.deps.maxPduLength);
    this.sendAssociationAccept();
    this.announcedMaxPdu = association.getMaxPduLength();
    association.setMaxPduLength(requestorMaxPdu);
    this.acceptedContexts = new Set(
      association
        .getPresentationContexts()
        .filter(({ context }) => context.getResult() === PresentationContextResult.Accept)
        .map(({ context }) => context.getPresentationContextId()),
    );
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
    this.contain('answering C-ECHO', () => this.echo(request, callback));
  }

  private echo(request: CEchoRequest, callback: (response: dcmjsDimse.responses.CEchoResponse) => void): void {
    const response = withDirectCommandEncoding(CEchoResponse.fromRequest(request));
    response.setStatus(STATUS.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    // After a contained failure the library still wants a stream: one that drops what it is given.
    const sink = (): Writable => new Sink();
    return this.contain('starting a C-STORE', () => this.beginStore(context, request), sink) ?? sink();
  }

  private beginStore(context: PresentationContext, request: CStoreRequest): Writable {
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
    receiver
      .complete()
      .then(
        (outcome) => this.results.set(token, { ok: true, outcome }),
        (error: unknown) => this.results.set(token, { ok: false, error }),
      )
      .finally(() => {
        if (this.receiver === receiver) this.receiver = undefined;
        callback(token);
      });
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: dcmjsDimse.responses.CStoreResponse) => void): void {
    this.contain('answering C-STORE', () => this.answerStore(request, callback));
  }

  private answerStore(request: CStoreRequest, callback: (response: dcmjsDimse.responses.CStoreResponse) => void): void {
    const dataset = request.getDataset();
    const result: StoreResult = (dataset && this.results.get(dataset)) || { ok: false, error: new Error('C-STORE without data set') };
    const response = withDirectCommandEncoding(CStoreResponse.fromRequest(request));
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

  /** Sends A-ABORT (PS3.8 9.3.8, source: service provider) and closes the socket; also used for shutdown. */
  abortAssociation(): void {
    this.closing = true;
    if (this.socket_.destroyed) return;
    // Written by hand: the library sends none before an association exists.
    if (this.socket_.writable) this.socket_.end(A_ABORT, () => this.socket_.destroy());
    setTimeout(() => this.socket_.destroy(), 1000).unref();
  }
}
