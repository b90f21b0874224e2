import { z } from 'zod';
import type {
  AccountLookup,
  AnyAccountType,
  AnyChannel,
  ChannelRuntime,
  JobOf,
  RecipientOf,
  SendSlot,
  SenderDeps,
} from './channel';
import type { Sender } from './sender';

export type ChannelList = readonly [AnyChannel, ...AnyChannel[]];

export type NameOf<Cs extends ChannelList> = Cs[number]['name'];
export type ByName<Cs extends ChannelList, N> = Extract<Cs[number], { name: N }>;

/** Template parts by channel, as the author writes them. */
export type PartsOf<Cs extends ChannelList> = {
  [N in NameOf<Cs>]?: z.infer<ByName<Cs, N>['part']>;
};
/** Rendered parts by channel. */
export type RenderedPartsOf<Cs extends ChannelList> = {
  [N in NameOf<Cs>]?: z.infer<ByName<Cs, N>['rendered']>;
};
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
/** The recipient fields of every channel of the list, as one zod shape. */
export type RecipientShapeOf<Cs extends ChannelList> = UnionToIntersection<Cs[number]['recipientFields']>;
/** A recipient with the fields of every channel. */
export type RecipientFieldsOf<Cs extends ChannelList> = RecipientOf<
  RecipientShapeOf<Cs> extends z.ZodRawShape ? RecipientShapeOf<Cs> : never
>;

/** Every channel's recipient fields merged (a field two channels share is declared by the first). */
export function recipientShapeOf<Cs extends ChannelList>(channels: Cs): RecipientShapeOf<Cs> {
  const shape: z.ZodRawShape = {};
  for (const c of [...channels].reverse()) Object.assign(shape, c.recipientFields);
  return shape as RecipientShapeOf<Cs>;
}
export type RuntimeOf<C extends AnyChannel> = ReturnType<C['bind']>;
/** Optional stand-in senders by channel, each typed with its channel's job. */
export type SenderOverrides<Cs extends ChannelList> = {
  [N in NameOf<Cs>]?: Sender<JobOf<ByName<Cs, N>>>;
};

/**
 * The zod shape `{ [name]: schemaOf(channel) }` over a channel list. Typed by the caller: TypeScript
 * cannot follow a mapped tuple through Object.fromEntries, so the one cast lives here.
 */
export function shapeOver<Cs extends ChannelList, S extends z.ZodRawShape>(
  channels: Cs,
  schemaOf: (c: Cs[number]) => z.ZodType,
  keyOf: (c: Cs[number]) => string = (c) => c.name,
): S {
  return Object.fromEntries(channels.map((c) => [keyOf(c), schemaOf(c)])) as unknown as S;
}

/** The environment variable that overrides a channel's default concurrency. */
export type ConcurrencyVariable<N extends string> = `HERALD_CONCURRENCY_${Uppercase<N>}`;
export const concurrencyVariable = <N extends string>(name: N): ConcurrencyVariable<N> =>
  `HERALD_CONCURRENCY_${name.toUpperCase()}` as ConcurrencyVariable<N>;

/** The channel names as the non-empty tuple z.enum takes. */
export function namesOf<Cs extends ChannelList>(channels: Cs): readonly [NameOf<Cs>, ...NameOf<Cs>[]] {
  return channels.map((c) => c.name) as [NameOf<Cs>, ...NameOf<Cs>[]];
}

/** The distinct account types of a channel list, in channel order. */
export function accountTypesOf<Cs extends ChannelList>(channels: Cs): AnyAccountType[] {
  const out: AnyAccountType[] = [];
  for (const c of channels) if (c.account && !out.includes(c.account)) out.push(c.account);
  return out;
}

export interface BindOptions<Cs extends ChannelList> {
  accounts: AccountLookup;
  deps: SenderDeps;
  /** The concurrency slot of a channel. */
  slotFor(name: NameOf<Cs>): SendSlot | undefined;
  /** Senders to use instead of the channels' own (tests). */
  senders?: SenderOverrides<Cs>;
  now?: () => number;
}

/** Every channel of the list bound to its sender, by name. */
export type ChannelRuntimes<Cs extends ChannelList> = ReadonlyMap<NameOf<Cs>, RuntimeOf<Cs[number]>>;

function bindOne<C extends AnyChannel>(
  channel: C,
  sender: Sender<JobOf<C>> | undefined,
  opts: { accounts: AccountLookup; deps: SenderDeps; slot?: SendSlot; now?: () => number },
): ChannelRuntime {
  return channel.bind({
    sender: sender ?? channel.createSender(opts.deps),
    accounts: opts.accounts,
    slot: opts.slot,
    now: opts.now,
    log: opts.deps.log,
  });
}

/** Binds each channel to its sender (created from `deps` unless `senders` has a stand-in). */
export function bindChannels<Cs extends ChannelList>(
  channels: Cs,
  opts: BindOptions<Cs>,
): ChannelRuntimes<Cs> {
  const out = new Map<NameOf<Cs>, ChannelRuntime>();
  for (const c of channels) {
    const name: NameOf<Cs> = c.name;
    const sender = opts.senders?.[name];
    out.set(name, bindOne(c, sender, { ...opts, slot: opts.slotFor(name) }));
  }
  // Each entry was bound by its own module; the map's value type only names which one is which.
  return out as unknown as ChannelRuntimes<Cs>;
}
