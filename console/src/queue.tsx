/**
 * The queue: filters (kept in the URL), live counts, the flags a page at a time, and keyboard
 * triage — j/k next/previous, Enter open, c confirm, d dismiss (each asks for a reason).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiProblem,
  api,
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

const FILTER_NAMES = [
  'status',
  'hospital',
  'doctor',
  'rule',
  'ruleClass',
  'severity',
  'stage',
  'result',
  'from',
  'to',
  'minAmount',
  'maxAmount',
  'overdue',
] as const;

const filtersOf = (query: URLSearchParams): Record<string, string> => {
  const filters: Record<string, string> = {};
  for (const name of FILTER_NAMES) {
    const value = query.get(name);
    if (value) filters[name] = value;
  }
  return filters;
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

  useEffect(() => {
    setPage(null);
    setCounts(null);
    setSelected(0);
    setError(null);
    api.list(filters).then(
      (p) => setPage({ items: p.items, next: p.nextCursor }),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
    api.counts(filters).then(setCounts, () => setCounts(null));
  }, [key]);

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

  const items = page?.items ?? [];
  const current = items[selected];
  const canDecide = (flag: Flag | undefined, action: ReviewAction) =>
    me.role === 'auditor' &&
    flag !== undefined &&
    ['open', 'escalated'].includes(flag.status) &&
    (action === 'confirm' || action === 'dismiss');

  // The key handler reads the latest render through a ref: an effect re-registered after each
  // render would let keys pressed right after a page arrives see the previous (empty) list.
  const latest = useRef({ items, current, dialog });
  latest.current = { items, current, dialog };
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
        <Select
          name="status"
          label="状态 status"
          options={STATUS_LABELS}
          value={filters.status}
          onChange={change}
        />
        {me.role !== 'hospital' && (
          <Text
            name="hospital"
            label="医院 hospital"
            value={filters.hospital}
            onChange={change}
            placeholder="例 H3001"
          />
        )}
        <Text name="doctor" label="医生 doctor" value={filters.doctor} onChange={change} />
        <Text
          name="rule"
          label="规则 rule"
          value={filters.rule}
          onChange={change}
          placeholder="例 GZ-DRUG-SEX"
        />
        <Select
          name="ruleClass"
          label="规则类别 rule class"
          options={Object.fromEntries(
            Object.keys(counts?.byRuleClass ?? {})
              .concat(filters.ruleClass ? [filters.ruleClass] : [])
              .map((c) => [c, c]),
          )}
          value={filters.ruleClass}
          onChange={change}
        />
        <Select
          name="severity"
          label="严重程度 severity"
          options={SEVERITY_LABELS}
          value={filters.severity}
          onChange={change}
        />
        <Select
          name="result"
          label="结论 result"
          options={RESULT_LABELS}
          value={filters.result}
          onChange={change}
        />
        <Select
          name="stage"
          label="阶段 stage"
          options={STAGE_LABELS}
          value={filters.stage}
          onChange={change}
        />
        <Text
          name="from"
          label="起始月 from"
          value={filters.from}
          onChange={change}
          placeholder="例 2026-09"
        />
        <Text name="to" label="截止月 to" value={filters.to} onChange={change} placeholder="例 2026-12" />
        <Text name="minAmount" label="最低金额 min ¥" value={filters.minAmount} onChange={change} />
        <Text name="maxAmount" label="最高金额 max ¥" value={filters.maxAmount} onChange={change} />
        <label>
          仅逾期 overdue
          <input
            type="checkbox"
            aria-label="仅逾期 overdue"
            checked={filters.overdue === 'true'}
            onChange={(e) => change('overdue', e.currentTarget.checked ? 'true' : '')}
          />
        </label>
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
              合计 total<b>{counts.total}</b>
            </span>
            <span class="chip">
              涉及金额 at risk<b>{yuan(counts.amountAtRisk)}</b>
            </span>
            <span class="chip warn">
              逾期 overdue<b>{counts.overdue}</b>
            </span>
            {Object.entries(counts.byStatus).map(([s, n]) => (
              <span class="chip" key={s}>
                {STATUS_LABELS[s as keyof typeof STATUS_LABELS] ?? s}
                <b>{n}</b>
              </span>
            ))}
            {Object.entries(counts.byRuleClass)
              .sort(([, a], [, b]) => b.flags - a.flags)
              .slice(0, 8)
              .map(([c, v]) => (
                <span class="chip" key={c}>
                  {c}
                  <b>{v.flags}</b>
                </span>
              ))}
            {!counts.complete && <span class="chip">（计数为下限 lower bounds）</span>}
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

      {page === null && !error ? (
        <p class="muted">加载中…</p>
      ) : items.length === 0 ? (
        <p class="alert info">没有符合条件的疑点 (no flags match)</p>
      ) : (
        <table aria-label="疑点列表 flags">
          <thead>
            <tr>
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
