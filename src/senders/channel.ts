import { context, trace, type Span } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Database } from '../db/database';
import { HeraldError, OperatorError } from '../errors';
import type { ChannelAccountType } from '../generated/prisma/enums';
import type { ImBus } from '../inbox/imBus';
import type { InboxStore } from '../inbox/inboxStore';
import { createEgressGuard, type AllowedHost, type EgressGuard } from './egress';
import type { JobBase, SendOutcome, Sender } from './sender';
import { endAttemptSpan, startAttemptSpan } from './attemptSpan';

/**
 * The one interface a channel implements. A channel is a folder `src/senders/<name>/` whose `index.ts`
 * exports `defineChannel({...})`, plus one line in `src/senders/registry.ts`; everything else Herald
 * knows about channels (the envelope's channel enum and recipient fields, template and rendered-part
 * schemas, account schemas and codec, delivery planning, sending, per-channel limits, env variables)
 * is derived from the registry.
 */

/** A channel account's sealed secrets, by storage key. */
export type StoredSecrets = Record<string, string>;

/** The template-part field naming the channel account to use. */
export const accountNameField = z
  .string()
  .min(1)
  .max(100)
  .describe('channel account name; default account when omitted');

/**
 * A channel-account type: how its config is written (secrets included, write-only), stored and shown
 * (no secrets), and turned into what the channel's sender needs.
 */
export interface AccountTypeSpec<
  Type extends string = string,
  Input extends z.ZodObject = z.ZodObject,
  Stored extends z.ZodObject = z.ZodObject,
  Config = unknown,
  Secret extends string = string,
> {
  /** As the API spells it, e.g. `dingtalk-robot`. */
  type: Type;
  /** The Prisma enum value (`ChannelAccountType`); checked at compile time. */
  dbType: ChannelAccountType;
  /** For messages: `no ${label} account named "x"`. */
  label: string;
  /** The config on POST and PUT. */
  input: Input;
  /** The config column, which is also the public view: it never holds a secret. */
  stored: Stored;
  /** Secret names as `secretsSet` shows them → their key in the sealed secrets. */
  secrets: Readonly<Record<Secret, string>>;
  /**
   * Whether one account of this type can be the default a template falls back to. A template part of a
   * channel whose type is not defaultable and that names no account is warned of at save.
   */
  defaultable?: boolean;
  /**
   * The URLs this config makes Herald call (a robot's webhook, an API base), checked against the channel's
   * vendor hosts and HERALD_WEBHOOK_ALLOW_HOSTS when the account is saved. Undefined: hosts are free (SMTP).
   */
  egressUrls?(input: z.infer<Input>): string[];
  /**
   * A PUT that leaves a secret out keeps the stored one; when the PUT changes where that secret would go
   * (a host, a port, TLS), this names what changed and which stored secrets must be sent again, so an
   * admin who can never read a secret cannot redirect it. Undefined: nothing is redirected.
   */
  movedSecrets?(
    input: z.infer<Input>,
    stored: z.infer<Stored>,
    secrets: StoredSecrets,
  ): { changed: string; secrets: string[] } | undefined;
  /** `previous`: the stored secrets on PUT, so a secret left out of the input keeps its value. */
  split(input: z.infer<Input>, previous: StoredSecrets): { config: z.infer<Stored>; secrets: StoredSecrets };
  toConfig(name: string, stored: z.infer<Stored>, secrets: StoredSecrets): Config;
}

export type AnyAccountType = AccountTypeSpec<string, z.ZodObject, z.ZodObject, unknown, string>;
export type AccountConfigOf<A> =
  A extends AccountTypeSpec<string, z.ZodObject, z.ZodObject, infer C> ? C : never;

/** Identity at runtime; pins the account type's literal types. */
export function defineAccountType<
  const Type extends string,
  Input extends z.ZodObject,
  Stored extends z.ZodObject,
  Config,
  const Secret extends string,
>(
  spec: AccountTypeSpec<Type, Input, Stored, Config, Secret>,
): AccountTypeSpec<Type, Input, Stored, Config, Secret> {
  return spec;
}

/** Channel accounts by type, decoded for the sender. */
export interface AccountLookup {
  /**
   * The account named `name`, which must be of this type (else an `unknown_account` error); without a
   * name, the type's default account if it has one, else undefined.
   */
  find<A extends AnyAccountType>(type: A, name?: string): Promise<AccountConfigOf<A> | undefined>;
}

/** What the platform offers a channel's sender factory; a channel takes what it needs. */
export interface SenderDeps {
  db: Database;
  log: FastifyBaseLogger;
  /** HERALD_HOME (the mail outbox lives under it). */
  homeDir: string;
  inbox: InboxStore;
  imBus: ImBus;
  /** Called after a channel account changed, here or on another instance; returns an unsubscribe. */
  onAccountChange(listener: (name: string) => void): () => void;
  /** HERALD_WEBHOOK_ALLOW_HOSTS: hosts beyond the vendors' own that senders may reach. */
  webhookAllowHosts: readonly AllowedHost[];
  /** What the audience side offers senders (src/audience, wired in src/runtime.ts); tests may leave it out. */
  audience?: SenderAudience;
}

/** The audience side as senders see it: nothing of its modules, only these two calls. */
export interface SenderAudience {
  /** The signed link that turns this kind of mail off for this person (List-Unsubscribe). */
  unsubscribeUrl(scope: {
    /** The channel the link comes by, which one click turns the category off on. */
    channel: string;
    userId?: string;
    address: string;
    category: string | null;
    deliveryId: string;
  }): string;
  /** Records that an address's mailbox does not exist (a permanent answer), so no send goes there again. */
  addressRejected(rejected: {
    address: string;
    detail: string;
    messageId: string;
    deliveryId: string;
  }): Promise<void>;
}

/** The egress guard of a channel's sender: its own vendor hosts plus HERALD_WEBHOOK_ALLOW_HOSTS. */
export function egressOf(
  channel: { vendorHosts: readonly string[]; account?: { label: string } },
  deps: Pick<SenderDeps, 'webhookAllowHosts'>,
): EgressGuard {
  return createEgressGuard({
    vendorHosts: channel.vendorHosts,
    allowHosts: deps.webhookAllowHosts,
    label: channel.account?.label ?? 'vendor',
  });
}

/** A send slot of the channel's concurrency limit; a critical send is served first (concurrencyLimit.ts). */
export type SendSlot = <T>(fn: () => Promise<T>, opts?: { critical?: boolean }) => Promise<T>;

/** Recipient fields every channel sees, beside those it adds itself. */
export interface CommonRecipient {
  name?: string;
  locale?: string;
}
/** A recipient as one channel sees it: the common fields and the channel's own. */
export type RecipientOf<S extends z.ZodRawShape> = CommonRecipient & z.infer<z.ZodObject<S>>;
type Infer<S extends z.ZodRawShape> = RecipientOf<S>;

/** A rendered field the vendor caps, and its cap in UTF-8 bytes. */
export interface TextLimit {
  field: string;
  bytes: number;
}

/** What a channel's own check found wrong with a template part. */
export interface PartIssue {
  field: string;
  message: string;
}

/** What a later check found out; the delivery-state owner applies it (recordFollowUpFindings). */
export type { FollowUpFinding } from '../delivery/deliveryState';
import type { FollowUpFinding } from '../delivery/deliveryState';

/** One follow-up to run later: JSON that the channel's runner parses with its own schema. */
export interface PlannedFollowUp {
  channel: string;
  payload: unknown;
}

export interface FollowUpRunner {
  /** Runs one follow-up of the round whose delays are `delaysMs`; `next` is the same follow-up again later. */
  run(
    payload: unknown,
    delaysMs: readonly number[],
  ): Promise<{ findings: FollowUpFinding[]; next?: { payload: unknown; delayMs: number } }>;
}

/**
 * A later look at sends the vendor accepted but may still drop (a send-result query): planned from the
 * send's jobs and outcomes, scheduled durably after the sent rows commit, run by the consumer role.
 */
export interface FollowUpSpec<Job> {
  /** The delay before each round, the first counted from the send; HERALD_FOLLOW_UP_DELAYS overrides. */
  delaysMs: readonly number[];
  plan(jobs: readonly Job[], outcomes: readonly SendOutcome[]): unknown[];
  createRunner(deps: SenderDeps, accounts: AccountLookup): FollowUpRunner;
}

/** Nothing to send for this delivery, and why (it ends `skipped`). */
export interface Skip {
  skip: string;
}

export interface JobInput<Rendered, R, AccountConfig> {
  base: JobBase;
  rendered: Rendered;
  /** The delivery's recipient; undefined for a group post. */
  recipient: R | undefined;
  /** The envelope's recipients (a group post mentions them) and its @everyone flag. */
  envelope: { to: readonly R[]; atAll: boolean };
  /** The channel account by name (the channel's own account type), or its default. */
  account(name: string | undefined): Promise<AccountConfig | undefined>;
}

export interface ChannelSpec<
  Name extends string,
  Part extends z.ZodObject,
  Rendered extends z.ZodObject,
  RecipientShape extends z.ZodRawShape,
  Job extends JobBase,
  Account extends AnyAccountType | undefined,
> {
  /** The channel's name in envelopes, templates and the database enum `Channel`. */
  name: Name;
  /** One delivery per recipient, or one per envelope (a group post that may mention recipients). */
  fanOut: 'perRecipient' | 'group';
  /** Recipient fields this channel adds to the envelope's recipient (optional strings). */
  recipientFields: RecipientShape;
  /** The address a recipient needs on this channel (perRecipient: without one the delivery is skipped). */
  address(recipient: Infer<RecipientShape>): string | undefined;
  /** Why a recipient without an address is skipped. */
  missingAddress: string;
  /** The template part; the locale override is `part.partial()`. */
  part: Part;
  /** The part as rendered (no length limits: those apply to what the template author writes). */
  rendered: Rendered;
  /** Fields rendered and syntax-checked as Liquid text. */
  textFields: readonly (keyof z.infer<Part> & string)[];
  /** Fields rendered as HTML (output escaped by default). */
  htmlFields?: readonly (keyof z.infer<Part> & string)[];
  /** Object fields whose top-level string values are rendered as text (`data.key`). */
  recordFields?: readonly (keyof z.infer<Part> & string)[];
  /**
   * The channel's own checks of a template part, run when a template is saved (on each part, and on each
   * locale override merged over its base part); an empty list when the part is fine.
   */
  checkPart?(part: z.infer<Part>): PartIssue[];
  /**
   * The longest the rendered part's main text may be, in UTF-8 bytes, where the vendor refuses longer;
   * a digest over it is cut to fit with "… and N more". Undefined: no limit that matters.
   */
  textLimit?(rendered: z.infer<Rendered>): TextLimit | undefined;
  /** Its deliveries can become `read` (the recipient opened what was sent): what escalate.unless "read" watches. */
  readable?: boolean;
  /** What a person calls it, on pages they see (the preferences page); the name when omitted. */
  label?: string;
  /**
   * Its addresses are kept on the suppression list (a mailbox that does not exist, an unsubscribe of an
   * address without a user id), which is checked before every send of the channel.
   */
  suppressible?: boolean;
  /** The channel-account type, if the channel has accounts. */
  account?: Account;
  /** Default concurrent sends; `HERALD_CONCURRENCY_<NAME>` overrides it. */
  concurrency: number;
  /** The vendor's rate budget, for the sender and the docs (shared by all instances). */
  budget?: { perWindow: number; windowMs: number };
  /** Hosts the sender talks to, for an egress allow-list (account-configured hosts aside). */
  vendorHosts: readonly string[];
  /** A rendered delivery → the sender's job, or why there is nothing to send. May throw a HeraldError. */
  toJob(
    input: JobInput<z.infer<Rendered>, Infer<RecipientShape>, AccountConfigOf<NonNullable<Account>>>,
  ): Promise<Job | Skip>;
  createSender(deps: SenderDeps): Sender<Job>;
  /** A later check of accepted sends, if the vendor can accept and then drop a message. */
  followUp?: FollowUpSpec<Job>;
  /**
   * The rendered part of the one message "send a test" sends through the account `account` (POST
   * /v1/channel-accounts/:name/test); `text` says what it is. Undefined: its accounts offer no test.
   */
  testMessage?(account: string, text: { title: string; body: string }): z.infer<Rendered>;
}

/** One claimed delivery to send: its job base, the rendered parts of its recipient, the recipient. */
export interface ChannelBatchItem<Name extends string, Rendered, R> {
  base: JobBase;
  parts: { readonly [N in Name]?: Rendered };
  recipient: R | undefined;
}

export type BatchResult =
  { kind: 'skipped'; reason: string } | { kind: 'tried'; outcome: SendOutcome; durationMs: number };

/** A channel bound to its sender: what the pipeline drives. The job type stays inside. */
export interface ChannelRuntime<Name extends string = string, Rendered = unknown, R = unknown> {
  readonly name: Name;
  /** Prepares and sends one envelope's claimed deliveries of this channel; one result each, in order. */
  sendBatch(
    items: ReadonlyArray<ChannelBatchItem<Name, Rendered, R>>,
    envelope: { to: readonly R[]; atAll: boolean },
    /** Receives the follow-ups the sends call for (channels with `followUp`). */
    followUps?: (planned: PlannedFollowUp[]) => void,
  ): Promise<BatchResult[]>;
  close(): Promise<void>;
}

export interface ChannelModule<
  Name extends string = string,
  Part extends z.ZodObject = z.ZodObject,
  Rendered extends z.ZodObject = z.ZodObject,
  RecipientShape extends z.ZodRawShape = z.ZodRawShape,
  Job extends JobBase = JobBase,
  Account extends AnyAccountType | undefined = AnyAccountType | undefined,
> extends ChannelSpec<Name, Part, Rendered, RecipientShape, Job, Account> {
  /** Binds the channel to a sender (its own by default; tests pass a stub of the same job type). */
  bind(opts: {
    sender: Sender<Job>;
    accounts: AccountLookup;
    slot?: SendSlot;
    now?: () => number;
    log?: FastifyBaseLogger;
  }): ChannelRuntime<Name, z.infer<Rendered>, Infer<RecipientShape>>;
}

/**
 * Any channel module, whatever its types: what a channel list holds. Functions that take a channel's own
 * types are called through the precise module types (see src/senders/channelSet.ts), not through this.
 */
export interface AnyChannel {
  readonly name: string;
  readonly fanOut: 'perRecipient' | 'group';
  readonly recipientFields: z.ZodRawShape;
  readonly missingAddress: string;
  readonly part: z.ZodObject;
  readonly rendered: z.ZodObject;
  readonly textFields: readonly string[];
  readonly htmlFields?: readonly string[];
  readonly recordFields?: readonly string[];
  /** Called with a part that passed `part` (method syntax: each channel takes its own part type). */
  checkPart?(part: Record<string, unknown>): PartIssue[];
  /** Called with a part that passed `rendered`. */
  textLimit?(rendered: Record<string, unknown>): TextLimit | undefined;
  readonly readable?: boolean;
  readonly label?: string;
  readonly suppressible?: boolean;
  readonly account?: AnyAccountType;
  readonly concurrency: number;
  readonly budget?: { perWindow: number; windowMs: number };
  readonly vendorHosts: readonly string[];
  address(recipient: never): string | undefined;
  testMessage?(account: string, text: { title: string; body: string }): Record<string, unknown>;
  createSender(deps: SenderDeps): Sender<JobBase>;
  readonly followUp?: {
    delaysMs: readonly number[];
    createRunner(deps: SenderDeps, accounts: AccountLookup): FollowUpRunner;
  };
  bind(opts: {
    sender: Sender<JobBase>;
    accounts: AccountLookup;
    slot?: SendSlot;
    now?: () => number;
    log?: FastifyBaseLogger;
  }): ChannelRuntime<string, never, never>;
}

export type JobOf<C> = C extends { createSender(deps: SenderDeps): Sender<infer J> } ? J : never;

/** The duration an attempt is recorded with: the time it took, unless the outcome must not show it. */
const recordedDuration = (outcome: SendOutcome, tookMs: number): number =>
  outcome.kind === 'retryable' && outcome.concealDuration ? 0 : tookMs;

const failedWith = (err: unknown): SendOutcome => ({
  kind: 'retryable',
  code: 'sender_error',
  message: (err as Error).message,
});

/** Defines a channel: the spec as given, plus `bind`, which keeps each job with its own sender. */
export function defineChannel<
  const Name extends string,
  Part extends z.ZodObject,
  Rendered extends z.ZodObject,
  RecipientShape extends z.ZodRawShape,
  Job extends JobBase,
  Account extends AnyAccountType | undefined = undefined,
>(
  spec: ChannelSpec<Name, Part, Rendered, RecipientShape, Job, Account>,
): ChannelModule<Name, Part, Rendered, RecipientShape, Job, Account> {
  type R = Infer<RecipientShape>;
  return {
    ...spec,
    bind({ sender, accounts, slot, now = Date.now, log }) {
      const limited: SendSlot = slot ?? ((fn) => fn());
      const accountType = spec.account;
      const account = (name: string | undefined) =>
        accountType ? accounts.find(accountType, name) : Promise.resolve(undefined);

      async function prepare(
        item: ChannelBatchItem<Name, z.infer<Rendered>, R>,
        envelope: { to: readonly R[]; atAll: boolean },
      ): Promise<Job | Skip | { outcome: SendOutcome }> {
        const rendered = item.parts[spec.name];
        const address = item.recipient && spec.address(item.recipient);
        if (!rendered || (spec.fanOut === 'perRecipient' && !address))
          return {
            outcome: {
              kind: 'permanent',
              code: 'nothing_to_send',
              message: `the template has no ${spec.name} part for this recipient`,
            },
          };
        try {
          return await spec.toJob({
            base: item.base,
            rendered,
            recipient: item.recipient,
            envelope,
            account,
          });
        } catch (err) {
          // A key or config the operator must fix: loud, and retried rather than failed for good.
          if (err instanceof OperatorError) {
            log?.error({ code: err.code, reason: err.message }, `${spec.name}: cannot prepare a send`);
            return { outcome: { kind: 'retryable', code: err.code, message: err.message } };
          }
          const code = err instanceof HeraldError ? err.code : 'prepare_failed';
          return { outcome: { kind: 'permanent', code, message: (err as Error).message } };
        }
      }

      async function send(jobs: Job[]): Promise<Array<{ outcome: SendOutcome; durationMs: number }>> {
        // sendMany also for one job when there is a follow-up: the plan needs each job with its outcome.
        if (sender.sendMany && (jobs.length > 1 || spec.followUp)) {
          const sendMany = sender.sendMany.bind(sender);
          const started = now();
          let spans: Span[] = [];
          const outcomes = await limited(
            () => {
              spans = jobs.map((job) => startAttemptSpan(spec.name, job));
              return sendMany(jobs);
            },
            // One envelope's jobs: one template, so all critical or none.
            { critical: jobs[0]?.critical === true },
          ).catch((err: unknown) => jobs.map(() => failedWith(err)));
          const each = (now() - started) / jobs.length;
          return outcomes.map((outcome, i) => {
            const span = spans[i];
            if (span) endAttemptSpan(span, outcome);
            return { outcome, durationMs: recordedDuration(outcome, each) };
          });
        }
        return Promise.all(
          jobs.map((job) =>
            limited(
              async () => {
                const started = now();
                const span = startAttemptSpan(spec.name, job);
                // Active while it runs: what the send does itself (IM's push to the gateways) nests under it.
                const outcome = await context
                  .with(trace.setSpan(context.active(), span), () => sender.send(job))
                  .catch(failedWith);
                endAttemptSpan(span, outcome);
                return { outcome, durationMs: recordedDuration(outcome, now() - started) };
              },
              { critical: job.critical === true },
            ),
          ),
        );
      }

      return {
        name: spec.name,
        async sendBatch(items, envelope, followUps) {
          const prepared = await Promise.all(items.map((item) => prepare(item, envelope)));
          const results: BatchResult[] = new Array<BatchResult>(items.length);
          const jobs: Job[] = [];
          const jobAt: number[] = [];
          prepared.forEach((p, i) => {
            if ('skip' in p) results[i] = { kind: 'skipped', reason: p.skip };
            else if ('outcome' in p) results[i] = { kind: 'tried', outcome: p.outcome, durationMs: 0 };
            else {
              jobs.push(p);
              jobAt.push(i);
            }
          });
          const sent = jobs.length ? await send(jobs) : [];
          if (spec.followUp && followUps && jobs.length) {
            const planned = spec.followUp.plan(
              jobs,
              sent.map((s) => s.outcome),
            );
            if (planned.length) followUps(planned.map((payload) => ({ channel: spec.name, payload })));
          }
          sent.forEach((s, j) => {
            const at = jobAt[j];
            if (at !== undefined) results[at] = { kind: 'tried', ...s };
          });
          return results;
        },
        async close() {
          await sender.close?.();
        },
      };
    },
  };
}
