/**
 * The queue: filters (kept in the URL), live counts, the flags a page at a time, and keyboard
 * triage — j/k next/previous, Enter open, c confirm, d dismiss (each asks for a reason).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { FLAG_FILTER_NAMES, type FlagFilterName, MAX_BULK } from '../../src/review/states.ts';
import {
  ApiProblem,
  api,
  type Bulk,
  type CountsAnswer,
  downloadExport,
  type MeAnswer,
  type Page,
  type ReviewAction,
} from './api.ts';
import {
  ACTION_LABELS,
  RESULT_LABELS,
  SEVERITY_LABELS,
  STAGE_LABELS,
  STATUS_LABELS,
  time,
  yuan,
} from './labels.ts';
import { navigate } from './router.ts';

type Flag = Page['items'][number];

const filtersOf = (query: URLSearchParams): Record<string, string> => {
  const filters: Record<string, string> = {};
  for (const name of FLAG_FILTER_NAMES) {
    const value = query.get(name);
    if (value) filters[name] = value;
  }
  return filters;
};

/** How the queue shows a filter: a choice, a text box or a checkbox (`true` when checked). */
type Field =
  | { kind: 'select'; label: string; options: (counts: CountsAnswer | null) => Record<string, string> }
  | { kind: 'text'; label: string; placeholder?: string; auditorsOnly?: boolean }
  | { kind: 'check'; label: string };

const fixed = (options: Record<string, string>) => () => options;

/** A field for every filter of the API (FLAG_FILTER_NAMES): a filter without one fails the type check. */
const FIELDS: Record<FlagFilterName, Field> = {
  status: { kind: 'select', label: '状态 status', options: fixed(STATUS_LABELS) },
  hospital: { kind: 'text', label: '医院 hospital', placeholder: '例 H3001', auditorsOnly: true },
  doctor: { kind: 'text', label: '医生 doctor' },
  rule: { kind: 'text', label: '规则 rule', placeholder: '例 GZ-DRUG-SEX' },
  // The classes the counts found; a class in the URL stays choosable while the counts load.
  ruleClass: {
    kind: 'select',
    label: '规则类别 rule class',
    options: (counts) => Object.fromEntries(Object.keys(counts?.byRuleClass ?? {}).map((c) => [c, c])),
  },
  severity: { kind: 'select', label: '严重程度 severity', options: fixed(SEVERITY_LABELS) },
  result: { kind: 'select', label: '结论 result', options: fixed(RESULT_LABELS) },
  stage: { kind: 'select', label: '阶段 stage', options: fixed(STAGE_LABELS) },
  from: { kind: 'text', label: '起始月 from', placeholder: '例 2026-09' },
  to: { kind: 'text', label: '截止月 to', placeholder: '例 2026-12' },
  minAmount: { kind: 'text', label: '最低金额 min ¥' },
  maxAmount: { kind: 'text', label: '最高金额 max ¥' },
  overdue: { kind: 'check', label: '仅逾期 overdue' },
  superseded: { kind: 'check', label: '已被更正取代 superseded' },
};

function Select({
  name,
  label,
  options,
  value,
  onChange,
}: {
  name: string;
  label: string;
  options: Record<string, string>;
  value: string | undefined;
  onChange: (name: string, value: string) => void;
}) {
  return (
    <label>
      {label}
      <select aria-label={label} value={value ?? ''} onChange={(e) => onChange(name, e.currentTarget.value)}>
        <option value="">全部 all</option>
        {Object.entries(options).map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

function Text({
  name,
  label,
  value,
  onChange,
  placeholder,
}: {
  name: string;
  label: string;
  value: string | undefined;
  onChange: (name: string, value: string) => void;
  placeholder?: string;
}) {
  return (
    <label>
      {label}
      {/* Uncontrolled (keyed by the URL's value): a re-render while typing, when counts arrive, must not reset it. */}
      <input
        key={value ?? ''}
        aria-label={label}
        defaultValue={value ?? ''}
        placeholder={placeholder}
        onChange={(e) => onChange(name, e.currentTarget.value.trim())}
      />
    </label>
  );
}

/** A count as the console shows it: "≥ 10,000" when it is a lower bound. */
const atLeast = (n: number, exact: boolean): string => `${exact ? '' : '≥ '}${n.toLocaleString('en-US')}`;

/** The reason box of a decision taken from the keyboard or a button. */
export function ReasonDialog({
  action,
  onCancel,
  onSubmit,
  withEvidence,
}: {
  action: ReviewAction;
  onCancel: () => void;
  onSubmit: (reason: string, evidence?: string) => void;
  withEvidence?: boolean;
}) {
  const [reason, setReason] = useState('');
  const [evidence, setEvidence] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => box.current?.focus(), []);
  const submit = () => {
    if (reason.trim()) onSubmit(reason.trim(), withEvidence ? evidence.trim() || undefined : undefined);
  };
  return (
    <dialog open aria-label={`${ACTION_LABELS[action]}：填写理由`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
        }}
      >
        <h2>{ACTION_LABELS[action]}</h2>
        <label>
          理由 reason
          <textarea
            aria-label="理由 reason"
            ref={box}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
            // Triage stays on the keyboard: Enter submits, Shift+Enter starts a new line.
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                submit();
              }
            }}
          />
        </label>
        {withEvidence && (
          <label>
            证据说明 evidence
            <textarea
              aria-label="证据说明 evidence"
              value={evidence}
              onInput={(e) => setEvidence(e.currentTarget.value)}
            />
          </label>
        )}
        <div class="actions">
          <button class="primary" type="submit" disabled={!reason.trim()}>
            提交 submit
          </button>
          <button type="button" onClick={onCancel}>
            取消 cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function Queue({ me, query }: { me: MeAnswer; query: URLSearchParams }) {
  const filters = filtersOf(query);
  const key = JSON.stringify(filters);
  const [page, setPage] = useState<{ items: Flag[]; next: string | null } | null>(null);
  const [counts, setCounts] = useState<CountsAnswer | null>(null);
  const [selected, setSelected] = useState(0);
  const [dialog, setDialog] = useState<ReviewAction | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Rows checked for a bulk decision, by flag id. */
  const [checked, setChecked] = useState<ReadonlySet<string>>(new Set());
  const [bulk, setBulk] = useState<{ action: ReviewAction; scope: 'checked' | 'filtered' } | null>(null);
  const [bulkResult, setBulkResult] = useState<Bulk | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    setPage(null);
    setCounts(null);
    setSelected(0);
    setError(null);
    setChecked(new Set());
    // Answers to filters the auditor has since changed are dropped: a slower, older count (say of the
    // whole hospital) must not overwrite the newer one (of its high-severity flags).
    let current = true;
    api.list(filters).then(
      (p) => current && setPage({ items: p.items, next: p.nextCursor }),
      (e: unknown) => current && setError(e instanceof Error ? e.message : String(e)),
    );
    api.counts(filters).then(
      (c) => current && setCounts(c),
      () => current && setCounts(null),
    );
    return () => {
      current = false;
    };
  }, [key, reload]);

  // From the address bar, not this render's filters: two quick changes must both stay.
  const change = (name: string, value: string) => {
    const next = filtersOf(new URLSearchParams(window.location.search));
    if (value) next[name] = value;
    else delete next[name];
    navigate(`/?${new URLSearchParams(next).toString()}`);
  };

  const decide = async (flag: Flag, action: ReviewAction, reason: string) => {
    setDialog(null);
    try {
      const answer = await api.decide(flag.flagId, { action, reason, expectedVersion: flag.version });
      setPage((p) => p && { ...p, items: p.items.map((f) => (f.flagId === flag.flagId ? answer.flag : f)) });
      setMessage({ kind: 'ok', text: `${flag.flagId}：已${ACTION_LABELS[action]}` });
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 409 && e.current) {
        const now = e.current;
        setMessage({
          kind: 'error',
          text: `冲突：该疑点已被他人处理，当前状态为「${STATUS_LABELS[now.status as keyof typeof STATUS_LABELS] ?? now.status}」(conflict: ${e.message})`,
        });
        setPage(
          (p) =>
            p && {
              ...p,
              items: p.items.map((f) =>
                f.flagId === flag.flagId
                  ? { ...f, status: now.status as Flag['status'], version: now.version }
                  : f,
              ),
            },
        );
      } else setMessage({ kind: 'error', text: e instanceof Error ? e.message : String(e) });
    }
  };

  /** One decision with one reason over the checked rows (each at the version shown) or the whole filtered set. */
  const decideBulk = async (action: ReviewAction, scope: 'checked' | 'filtered', reason: string) => {
    setBulk(null);
    try {
      const answer =
        scope === 'checked'
          ? await api.bulk({
              flags: items
                .filter((f) => checked.has(f.flagId))
                .map((f) => ({ flagId: f.flagId, expectedVersion: f.version })),
              action,
              reason,
            })
          : await api.bulk({ filters, action, reason, expectedCount: counts?.total ?? 0 });
      setBulkResult(answer);
      setMessage({
        kind: answer.done === answer.total ? 'ok' : 'error',
        text: `批量${ACTION_LABELS[action]}：${answer.done}/${answer.total} 条完成 (bulk: ${answer.done} of ${answer.total} done)`,
      });
      setReload((n) => n + 1);
    } catch (e) {
      setMessage({ kind: 'error', text: e instanceof Error ? e.message : String(e) });
    }
  };

  const items = page?.items ?? [];
  const current = items[selected];
  const bulkable = me.role === 'auditor';
  const filteredTotal = counts?.exact ? counts.total : 0;
  const canDecide = (flag: Flag | undefined, action: ReviewAction) =>
    me.role === 'auditor' &&
    flag !== undefined &&
    ['open', 'escalated'].includes(flag.status) &&
    (action === 'confirm' || action === 'dismiss');

  // The key handler reads the latest render through a ref: an effect re-registered after each
  // render would let keys pressed right after a page arrives see the previous (empty) list.
  const latest = useRef({ items, current, dialog: dialog ?? bulk });
  latest.current = { items, current, dialog: dialog ?? bulk };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { items, current, dialog } = latest.current;
      if (dialog || e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
      if (e.key === 'j') setSelected((i) => Math.max(0, Math.min(i + 1, items.length - 1)));
      else if (e.key === 'k') setSelected((i) => Math.max(i - 1, 0));
      else if (e.key === 'Enter' && current) navigate(`/flags/${encodeURIComponent(current.flagId)}`);
      else if (e.key === 'c' && canDecide(current, 'confirm')) setDialog('confirm');
      else if (e.key === 'd' && canDecide(current, 'dismiss')) setDialog('dismiss');
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    document.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const more = async () => {
    if (!page?.next) return;
    const next = await api.list(filters, page.next);
    setPage({ items: [...page.items, ...next.items], next: next.nextCursor });
  };

  return (
    <main>
      <h1>
        {me.role === 'hospital' ? `本院疑点 ${me.hospitalId}` : '审核队列'}
        <span class="en">{me.role === 'hospital' ? 'our flags and appeals' : 'review queue'}</span>
      </h1>
      <form class="filters" aria-label="筛选 filters" onSubmit={(e) => e.preventDefault()}>
        {FLAG_FILTER_NAMES.map((name) => {
          const field = FIELDS[name];
          if (field.kind === 'select') {
            const options = field.options(counts);
            const value = filters[name];
            return (
              <Select
                key={name}
                name={name}
                label={field.label}
                options={value && !(value in options) ? { ...options, [value]: value } : options}
                value={value}
                onChange={change}
              />
            );
          }
          if (field.kind === 'check')
            return (
              <label key={name}>
                {field.label}
                <input
                  type="checkbox"
                  aria-label={field.label}
                  checked={filters[name] === 'true'}
                  onChange={(e) => change(name, e.currentTarget.checked ? 'true' : '')}
                />
              </label>
            );
          if (field.auditorsOnly && me.role === 'hospital') return null;
          return (
            <Text
              key={name}
              name={name}
              label={field.label}
              value={filters[name]}
              onChange={change}
              {...(field.placeholder ? { placeholder: field.placeholder } : {})}
            />
          );
        })}
        <button
          type="button"
          onClick={() =>
            downloadExport(filters).catch((e: Error) => setMessage({ kind: 'error', text: e.message }))
          }
        >
          导出 CSV export
        </button>
      </form>

      <section class="counts" aria-label="统计 counts">
        {counts ? (
          <>
            <span class="chip">
              合计 total<b>{atLeast(counts.total, counts.exact)}</b>
            </span>
            <span class="chip">
              涉及金额 at risk
              <b>
                {counts.exact ? '' : '≥ '}
                {yuan(counts.amountAtRisk)}
              </b>
            </span>
            <span class="chip warn">
              逾期 overdue<b>{atLeast(counts.overdue, counts.overdueExact)}</b>
            </span>
            {Object.entries(counts.byStatus).map(([s, n]) => (
              <span class="chip" key={s}>
                {STATUS_LABELS[s as keyof typeof STATUS_LABELS] ?? s}
                <b>{atLeast(n, counts.exact)}</b>
              </span>
            ))}
            {Object.entries(counts.byRuleClass)
              .sort(([, a], [, b]) => b.flags - a.flags)
              .slice(0, 8)
              .map(([c, v]) => (
                <span class="chip" key={c}>
                  {c}
                  <b>{atLeast(v.flags, counts.exact)}</b>
                </span>
              ))}
            {!(counts.exact && counts.overdueExact) && (
              <span class="chip" title="counted by reading the filtered flags up to a bound">
                （≥ 计数为下限 at least: counting stopped at its bound; narrow the filters for exact numbers）
              </span>
            )}
          </>
        ) : (
          <span class="muted">统计中…</span>
        )}
      </section>

      <p class="keys">
        键盘 keys: <kbd>j</kbd>/<kbd>k</kbd> 下一条/上一条 · <kbd>Enter</kbd> 打开 · <kbd>c</kbd> 确认违规 ·{' '}
        <kbd>d</kbd> 排除
      </p>
      {message && (
        <p class={`alert ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {error && (
        <p class="alert error" role="alert">
          {error}
        </p>
      )}

      {bulkable && (
        <section class="bulk" aria-label="批量处理 bulk decisions">
          <span>
            已选 <b>{checked.size}</b> 条 checked
          </span>
          {(['confirm', 'dismiss'] as const).map((action) => (
            <button
              key={action}
              type="button"
              disabled={checked.size === 0}
              onClick={() => setBulk({ action, scope: 'checked' })}
            >
              批量{ACTION_LABELS[action]} {action} checked
            </button>
          ))}
          {(['confirm', 'dismiss'] as const).map((action) => (
            <button
              key={`filtered-${action}`}
              type="button"
              // The API decides at most MAX_BULK flags of a filtered set at once, and only the set counted.
              disabled={filteredTotal === 0 || filteredTotal > MAX_BULK}
              onClick={() => setBulk({ action, scope: 'filtered' })}
            >
              筛选结果全部{ACTION_LABELS[action]}（{filteredTotal} 条）{action} filtered set
            </button>
          ))}
          {filteredTotal > MAX_BULK && (
            <span class="muted">
              筛选结果超过 {MAX_BULK} 条，请缩小范围 (at most {MAX_BULK} at once)
            </span>
          )}
        </section>
      )}
      {bulkResult && (
        <table aria-label="批量结果 bulk results" class="bulk-results">
          <thead>
            <tr>
              <th>疑点 flag</th>
              <th>结果 outcome</th>
              <th>状态 status</th>
              <th>原因 reason</th>
            </tr>
          </thead>
          <tbody>
            {bulkResult.results.map((r) => (
              <tr key={r.flagId} class={r.outcome === 'done' ? '' : 'refused'}>
                <td>{r.flagId}</td>
                <td>{r.outcome === 'done' ? '完成 done' : '未处理 refused'}</td>
                <td>{r.status ? STATUS_LABELS[r.status] : '—'}</td>
                <td>{r.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {page === null && !error ? (
        <p class="muted">加载中…</p>
      ) : items.length === 0 ? (
        <p class="alert info">没有符合条件的疑点 (no flags match)</p>
      ) : (
        <table aria-label="疑点列表 flags">
          <thead>
            <tr>
              {bulkable && (
                <th>
                  <input
                    type="checkbox"
                    aria-label="全选本页 check all shown"
                    checked={items.length > 0 && items.every((f) => checked.has(f.flagId))}
                    onChange={(e) =>
                      setChecked(e.currentTarget.checked ? new Set(items.map((f) => f.flagId)) : new Set())
                    }
                  />
                </th>
              )}
              <th>状态 status</th>
              <th>严重 sev.</th>
              <th>规则类别 rule class</th>
              <th>规则 rule</th>
              <th>医院 hospital</th>
              <th>医生 doctor</th>
              <th class="num">金额 at risk</th>
              <th>创建 created</th>
              <th>期限 due</th>
              <th>说明 message</th>
            </tr>
          </thead>
          <tbody>
            {items.map((f, i) => (
              <tr
                key={f.flagId}
                class={i === selected ? 'selected' : ''}
                aria-selected={i === selected}
                data-flag-id={f.flagId}
                onClick={() => setSelected(i)}
                onDblClick={() => navigate(`/flags/${encodeURIComponent(f.flagId)}`)}
              >
                {bulkable && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`选择 check ${f.flagId}`}
                      checked={checked.has(f.flagId)}
                      onClick={(e) => e.stopPropagation()}
                      onChange={(e) => {
                        const on = e.currentTarget.checked;
                        setChecked((was) => {
                          const next = new Set(was);
                          if (on) next.add(f.flagId);
                          else next.delete(f.flagId);
                          return next;
                        });
                      }}
                    />
                  </td>
                )}
                <td class="status">{f.statusLabel}</td>
                <td class={`sev-${f.severity}`}>{SEVERITY_LABELS[f.severity]}</td>
                <td>{f.basis.ruleClass}</td>
                <td>
                  <a
                    href={`/flags/${encodeURIComponent(f.flagId)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/flags/${encodeURIComponent(f.flagId)}`);
                    }}
                  >
                    {f.ruleId}
                  </a>
                </td>
                <td>{f.hospitalId}</td>
                <td>{f.doctorId ?? '—'}</td>
                <td class="num">{yuan(f.amountAtRisk)}</td>
                <td>{time(f.createdAt)}</td>
                <td class={f.overdue ? 'overdue' : ''}>
                  {time(f.dueAt)}
                  {f.overdue ? ' 逾期' : ''}
                </td>
                <td>{f.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.next && (
        <div class="actions">
          <button type="button" onClick={more}>
            加载更多 more
          </button>
        </div>
      )}
      {bulk && (
        <ReasonDialog
          action={bulk.action}
          onCancel={() => setBulk(null)}
          onSubmit={(reason) => decideBulk(bulk.action, bulk.scope, reason)}
        />
      )}
      {dialog && current && (
        <ReasonDialog
          action={dialog}
          onCancel={() => setDialog(null)}
          onSubmit={(reason) => decide(current, dialog, reason)}
        />
      )}
    </main>
  );
}
