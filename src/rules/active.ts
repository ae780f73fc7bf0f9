import { type Core, coreFromContent } from '../core.ts';
import type { RuleSetContent } from './content.ts';
import type { Screener } from './screen.ts';

/** Where running functions find published rule sets: the versions table's pointer and contents. */
export interface PublishedRuleSets {
  active(): Promise<{ active: string } | undefined>;
  content(version: string): Promise<RuleSetContent>;
}

/** Something that hands out the screener to decide with now: a fixed one, or {@link ActiveRuleSet}. */
export interface ScreenerSource {
  screener(): Promise<Screener>;
}

/** What a stage uses of a screener: its rule set and `screen` (so a test may stand in one of its own). */
export type StageScreener = Pick<Screener, 'ruleSet' | 'screen'>;

/** A deps' `screener`: a fixed screener (tests, the CLI) or a source that may change between calls. */
export type ScreenerOrSource = StageScreener | ScreenerSource;

export const currentScreener = (s: ScreenerOrSource): Promise<StageScreener> | StageScreener =>
  'screen' in s ? s : s.screener();

export interface RuleSetLog {
  info(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface ActiveRuleSetOptions {
  /** How long a check of the pointer is trusted; a new version is picked up within this time. */
  checkEveryMs: number;
  log: RuleSetLog;
  now?: () => number;
}

/**
 * The rule set a running function decides with: the published version the pointer names, checked
 * at most every `checkEveryMs` with one GetItem, loaded (in the background) only when the pointer
 * moves. Until a
 * version is published (or while none can be loaded) it is the set bundled with the function. A
 * version that cannot be loaded — tampered, incomplete, failing validation — never replaces the
 * running set: it is logged with the reason once and skipped until the pointer moves again.
 */
export class ActiveRuleSet implements ScreenerSource {
  #current: Core;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<Core> | undefined;
  #loading: Promise<void> | undefined;
  readonly #refused = new Set<string>();
  readonly #now: () => number;

  constructor(
    readonly published: PublishedRuleSets,
    bundled: Core,
    readonly options: ActiveRuleSetOptions,
  ) {
    this.#current = bundled;
    this.#now = options.now ?? Date.now;
  }

  /** The version deciding now, without checking the pointer. */
  get version(): string {
    return this.#current.ruleSet.version;
  }

  async screener(): Promise<Screener> {
    return (await this.core()).screener;
  }

  async core(): Promise<Core> {
    if (this.#now() - this.#checkedAt < this.options.checkEveryMs) return this.#current;
    // Concurrent batches in one process share one check.
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<Core> {
    const running = this.#current.ruleSet.version;
    let pointer: { active: string } | undefined;
    try {
      pointer = await this.published.active();
    } catch (error) {
      // Retried at the next call, not after the TTL: the table may be back in a moment.
      this.options.log.error('cannot read the active rule set pointer; keeping the running set', {
        running,
        reason: (error as Error).message,
      });
      return this.#current;
    }
    this.#checkedAt = this.#now();
    const wanted = pointer?.active;
    if (wanted && wanted !== running && !this.#refused.has(wanted))
      // Loaded beside the running set: building a set takes a second or so (the catalogue), longer
      // than a batch should wait, so the batches meanwhile are decided by the running one.
      this.#loading ??= this.#load(wanted, running).finally(() => {
        this.#loading = undefined;
      });
    return this.#current;
  }

  /** Resolves once a version being loaded is active or refused; for callers that want the newest set now. */
  async loaded(): Promise<void> {
    await this.#checking;
    await this.#loading;
  }

  async #load(wanted: string, running: string): Promise<void> {
    try {
      const content = await this.published.content(wanted);
      this.#current = coreFromContent(content, wanted);
      this.options.log.info('rule set activated', { version: wanted, previous: running });
    } catch (error) {
      this.#refused.add(wanted);
      this.options.log.error('rule set refused; keeping the running set', {
        version: wanted,
        running,
        reason: (error as Error).message,
      });
    }
  }
}
