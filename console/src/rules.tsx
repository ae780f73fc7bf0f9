/** Rule precision for rule authors: a rule whose flags are mostly dismissed or overturned stands out. */
import { useEffect, useState } from 'preact/hooks';
import { api, type Precision } from './api.ts';

export function RulesPage() {
  const [data, setData] = useState<Precision | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.precision().then(setData, (e: Error) => setError(e.message));
  }, []);
  if (error)
    return (
      <main>
        <p class="alert error">{error}</p>
      </main>
    );
  if (!data) return <main class="muted">加载中…</main>;
  const rules = [...data.rules].sort((a, b) => (a.precision ?? 2) - (b.precision ?? 2));
  return (
    <main>
      <h1>
        规则准确率<span class="en">rule precision</span>
      </h1>
      <table aria-label="规则准确率 rule precision">
        <thead>
          <tr>
            <th>规则 rule</th>
            <th>版本 v.</th>
            <th>名称</th>
            <th class="num">疑点 flags</th>
            <th class="num">待审 open</th>
            <th class="num">确认 confirmed</th>
            <th class="num">排除 dismissed</th>
            <th class="num">申诉 appealed</th>
            <th class="num">撤销 overturned</th>
            <th class="num">准确率 precision</th>
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr key={`${r.ruleId}@${r.ruleVersion}`}>
              <td>{r.ruleId}</td>
              <td>{r.ruleVersion}</td>
              <td>{r.title}</td>
              <td class="num">{r.flags}</td>
              <td class="num">{r.open}</td>
              <td class="num">{r.confirmed}</td>
              <td class="num">{r.dismissed}</td>
              <td class="num">{r.appealed}</td>
              <td class="num">{r.overturned}</td>
              <td class={`num ${r.precision !== null && r.precision < 0.5 ? 'overdue' : ''}`}>
                {r.precision === null ? '—' : `${(r.precision * 100).toFixed(1)}%`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
