/** A flag: its claim's lines (flagged ones highlighted), the rule and its basis, the trail, and the decisions the caller may take. */
import { useEffect, useState } from 'preact/hooks';
import { ApiProblem, api, type Detail, type MeAnswer, type ReviewAction } from './api.ts';
import {
  ACTION_LABELS,
  RESULT_LABELS,
  ROLE_LABELS,
  SEVERITY_LABELS,
  STAGE_LABELS,
  STATUS_LABELS,
  time,
  yuan,
} from './labels.ts';
import { ReasonDialog } from './queue.tsx';
import { navigate } from './router.ts';

export function FlagPage({ flagId, me }: { flagId: string; me: MeAnswer }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [dialog, setDialog] = useState<ReviewAction | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const load = () =>
    api
      .detail(flagId)
      .then(setDetail, (e: unknown) =>
        setMissing(e instanceof ApiProblem && e.status === 404 ? '未找到该疑点 (flag not found)' : String(e)),
      );
  useEffect(() => {
    setDetail(null);
    setMissing(null);
    setMessage(null);
    load();
  }, [flagId]);

  if (missing)
    return (
      <main>
        <p class="alert error" role="alert">
          {missing}
        </p>
        <button type="button" onClick={() => navigate('/')}>
          返回列表 back
        </button>
      </main>
    );
  if (!detail) return <main class="muted">加载中…</main>;
  const { flag, claim, rule, trail } = detail;

  const decide = async (action: ReviewAction, reason: string, evidence?: string) => {
    setDialog(null);
    try {
      await api.decide(flag.flagId, {
        action,
        reason,
        expectedVersion: flag.version,
        ...(evidence ? { evidence } : {}),
      });
      setMessage({ kind: 'ok', text: `已${ACTION_LABELS[action]}` });
      await load();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 409) {
        const status = e.current
          ? (STATUS_LABELS[e.current.status as keyof typeof STATUS_LABELS] ?? e.current.status)
          : '';
        setMessage({
          kind: 'error',
          text: `冲突：该疑点已被他人处理${status ? `，当前状态为「${status}」` : ''} (conflict: ${e.message})`,
        });
        await load();
      } else setMessage({ kind: 'error', text: e instanceof Error ? e.message : String(e) });
    }
  };

  return (
    <main>
      <p>
        <a
          href="/"
          onClick={(e) => {
            e.preventDefault();
            history.back();
          }}
        >
          ← 返回列表 back
        </a>
      </p>
      <h1>
        疑点 {flag.flagId}
        <span class="en">flag</span>
      </h1>
      {message && (
        <p class={`alert ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <div class="grid">
        <div>
          <section class="panel" aria-label="疑点 flag">
            <dl>
              <dt>状态 status</dt>
              <dd data-testid="status">{flag.statusLabel}</dd>
              <dt>说明 message</dt>
              <dd>{flag.message}</dd>
              <dt>结论 result</dt>
              <dd>
                {RESULT_LABELS[flag.result]} · 严重程度 {SEVERITY_LABELS[flag.severity]} ·{' '}
                {STAGE_LABELS[flag.stage]}
              </dd>
              <dt>涉及金额 at risk</dt>
              <dd>{yuan(flag.amountAtRisk)}</dd>
              <dt>医院 / 医生</dt>
              <dd>
                {flag.hospitalId} / {flag.doctorId ?? '—'}
              </dd>
              <dt>期限 due</dt>
              <dd class={flag.overdue ? 'overdue' : ''}>
                {detail.policy.step
                  ? `${detail.policy.step}（${detail.policy.limitDays}天）截止 ${time(flag.dueAt)}`
                  : '已办结 closed'}
                {flag.overdue ? ' 逾期 overdue' : ''}
              </dd>
            </dl>
          </section>
          <section class="panel" aria-label="结算单 claim">
            <h2>
              结算单明细 {claim?.claimId ?? flag.claimId ?? ''}
              <span class="en">claim lines</span>
            </h2>
            {claim ? (
              <table aria-label="结算单明细 claim lines">
                <thead>
                  <tr>
                    <th>行 line</th>
                    <th>编码 code</th>
                    <th>名称 name</th>
                    <th>类别</th>
                    <th class="num">数量 qty</th>
                    <th class="num">金额 amount</th>
                    <th>日期 date</th>
                  </tr>
                </thead>
                <tbody>
                  {claim.lines.map((l) => (
                    <tr
                      key={l.lineNo}
                      class={l.flagged ? 'flagged' : ''}
                      aria-label={l.flagged ? `第${l.lineNo}行（疑点所涉）` : undefined}
                    >
                      <td>{l.lineNo}</td>
                      <td>{l.code}</td>
                      <td>{l.name}</td>
                      <td>{l.category}</td>
                      <td class="num">{l.quantity}</td>
                      <td class="num">{yuan(l.amount)}</td>
                      <td>{l.serviceDate}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="muted">该疑点不针对单张结算单 (not about one claim)</p>
            )}
            {detail.relatedClaimIds.length > 0 && (
              <p>关联结算单 related: {detail.relatedClaimIds.join('、')}</p>
            )}
            {detail.siblings.length > 0 && (
              <p>
                同单其他疑点 other flags:{' '}
                {detail.siblings.map((s) => (
                  <a
                    key={s.flagId}
                    href={`/flags/${encodeURIComponent(s.flagId)}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/flags/${encodeURIComponent(s.flagId)}`);
                    }}
                    style="margin-right:8px"
                  >
                    {s.ruleId}（{STATUS_LABELS[s.status]}）
                  </a>
                ))}
              </p>
            )}
          </section>
        </div>
        <div>
          <section class="panel" aria-label="规则与依据 rule and basis">
            <h2>
              规则与依据<span class="en">rule and basis</span>
            </h2>
            <dl>
              <dt>规则 rule</dt>
              <dd>
                {flag.ruleId} v{flag.ruleVersion} {rule ? `· ${rule.title}` : ''}
              </dd>
              <dt>规则类别</dt>
              <dd>{flag.basis.ruleClass}</dd>
              <dt>编码 code</dt>
              <dd>{flag.basis.code}</dd>
              {flag.basis.knowledgePoint && (
                <>
                  <dt>知识点</dt>
                  <dd>{flag.basis.knowledgePoint}</dd>
                </>
              )}
            </dl>
            {flag.basis.text && <blockquote aria-label="知识点原文 basis text">{flag.basis.text}</blockquote>}
            {rule && (
              <>
                {rule.description && <p>{rule.description}</p>}
                <figure style="margin:0">
                  <figcaption class="muted">触发条件 conditions</figcaption>
                  <pre class="conditions">{rule.conditions.join('\n')}</pre>
                </figure>
                {Object.keys(rule.params).length > 0 && (
                  <p class="muted">
                    参数 params:{' '}
                    {Object.entries(rule.params)
                      .map(([k, v]) => `${k}=${v}`)
                      .join('，')}
                  </p>
                )}
              </>
            )}
          </section>
          <section class="panel" aria-label="处理 decide">
            <h2>
              处理<span class="en">decide</span>
            </h2>
            {detail.actions.length === 0 ? (
              <p class="muted">
                {me.role === 'rule-author' ? '只读 read-only' : '当前无可执行的操作 (nothing to do now)'}
              </p>
            ) : (
              <div class="actions">
                {detail.actions.map((a) => (
                  <button
                    key={a}
                    type="button"
                    class={a === 'confirm' || a === 'appeal' ? 'primary' : ''}
                    onClick={() => setDialog(a)}
                  >
                    {ACTION_LABELS[a]}
                  </button>
                ))}
              </div>
            )}
          </section>
          <section class="panel" aria-label="审核记录 trail">
            <h2>
              审核记录<span class="en">trail</span>
            </h2>
            {trail.length === 0 ? (
              <p class="muted">尚无处理 (no decisions yet)</p>
            ) : (
              <ol class="trail">
                {trail.map((e) => (
                  <li key={`${e.at}${e.action}`}>
                    <strong>{ACTION_LABELS[e.action]}</strong> {STATUS_LABELS[e.from]} → {STATUS_LABELS[e.to]}
                    <div class="muted">
                      {ROLE_LABELS[e.role]} {e.actorId} · {time(e.at)}
                    </div>
                    <div>理由：{e.reason}</div>
                    {e.evidence && <div>证据：{e.evidence}</div>}
                  </li>
                ))}
              </ol>
            )}
          </section>
        </div>
      </div>
      {dialog && (
        <ReasonDialog
          action={dialog}
          withEvidence={dialog === 'appeal'}
          onCancel={() => setDialog(null)}
          onSubmit={(r, ev) => decide(dialog, r, ev)}
        />
      )}
    </main>
  );
}
