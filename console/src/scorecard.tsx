/** The scorecard: a hospital's and its doctors' cost-quality scores over periods and against peers, with the components behind each number. */
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type MeAnswer, type Scores } from './api.ts';
import { navigate } from './router.ts';

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

type Score = Scores['items'][number];

function Chart({ label, option }: { label: string; option: echarts.EChartsCoreOption }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = echarts.init(box.current);
    // No animation: the numbers are read, not watched, and screenshots catch the chart complete.
    chart.setOption({ animation: false, ...option });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [JSON.stringify(option)]);
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}

const median = (values: number[]): number | null => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Four significant digits: the components are ratios and indices; a dash where nothing was measured. */
const figure = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : String(Number(n.toPrecision(4)));

/** A component's name as the score itself labels it (the post-event policy's label), with its key beside. */
const labelOf = (score: Score | undefined, name: string): string => {
  const label = score?.components[name]?.label;
  return label ? `${label} ${name}` : name;
};

export function Scorecard({ me, query }: { me: MeAnswer; query: URLSearchParams }) {
  const hospitalId = me.role === 'hospital' ? (me.hospitalId ?? '') : (query.get('hospital') ?? 'H3001');
  const [own, setOwn] = useState<Scores | null>(null);
  const [peers, setPeers] = useState<Record<string, number | null>>({});
  const [doctors, setDoctors] = useState<Score[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setOwn(null);
    setDoctors([]);
    setPeers({});
    api.scores({ kind: 'hospital', id: hospitalId }).then(
      async (answer) => {
        setOwn(answer);
        const periods = answer.items.map((s) => s.period).slice(-6);
        const latest = periods.at(-1);
        if (latest)
          setDoctors((await api.scores({ kind: 'doctor', period: latest, hospital: hospitalId })).items);
        // Peers: auditors see every hospital of a period; a hospital sees only itself, so its peer line is left out.
        if (me.role !== 'hospital') {
          const medians: Record<string, number | null> = {};
          for (const period of periods) {
            const all = await api.scores({ kind: 'hospital', period });
            medians[period] = median(all.items.map((s) => s.composite));
          }
          setPeers(medians);
        }
      },
      (e: Error) => setError(e.message),
    );
  }, [hospitalId]);

  const items = own?.items ?? [];
  const periods = items.map((s) => s.period);
  const latest = items.at(-1);
  return (
    <main>
      <h1>
        评分卡 {hospitalId}
        <span class="en">scorecard</span>
      </h1>
      {me.role !== 'hospital' && (
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            const value = new FormData(e.currentTarget).get('hospital');
            navigate(`/scorecard?hospital=${encodeURIComponent(String(value ?? ''))}`);
          }}
        >
          <label>
            医院 hospital
            <input name="hospital" aria-label="医院 hospital" defaultValue={hospitalId} />
          </label>
          <button type="submit">查看 show</button>
        </form>
      )}
      {error && <p class="alert error">{error}</p>}
      {own === null && !error ? (
        <p class="muted">加载中…</p>
      ) : own?.empty ? (
        <p class="alert info" role="status">
          暂无评分数据：评分由事后监管阶段写入 scores 表，该阶段尚未运行 (no scores yet: {own.note})
        </p>
      ) : (
        <>
          <div class="grid">
            <section class="panel">
              <h2>综合得分 composite（0–100，越高越好）</h2>
              <Chart
                label="综合得分趋势 composite over periods"
                option={{
                  tooltip: { trigger: 'axis' },
                  legend: {},
                  xAxis: { type: 'category', data: periods },
                  yAxis: { type: 'value', min: 0, max: 100 },
                  series: [
                    { name: hospitalId, type: 'line', data: items.map((s) => s.composite) },
                    ...(Object.keys(peers).length
                      ? [
                          {
                            name: '同级中位数 peer median',
                            type: 'line',
                            lineStyle: { type: 'dashed' },
                            data: periods.map((p) => peers[p] ?? null),
                          },
                        ]
                      : []),
                  ],
                }}
              />
            </section>
            <section class="panel">
              <h2>医生综合得分 doctors ({latest?.period})</h2>
              {doctors.length ? (
                <Chart
                  label="医生综合得分 doctors' composite"
                  option={{
                    tooltip: {},
                    xAxis: { type: 'category', data: doctors.map((d) => d.id) },
                    yAxis: { type: 'value', min: 0, max: 100 },
                    series: [{ name: '综合得分', type: 'bar', data: doctors.map((d) => d.composite) }],
                  }}
                />
              ) : (
                <p class="muted">暂无医生评分 (no doctor scores)</p>
              )}
            </section>
          </div>
          <section class="panel">
            <h2>指标趋势 components over periods</h2>
            <Chart
              label="指标趋势 components over periods"
              option={{
                tooltip: { trigger: 'axis' },
                legend: {},
                xAxis: { type: 'category', data: periods },
                yAxis: { type: 'value' },
                series: Object.keys(latest?.components ?? {}).flatMap((name) => [
                  {
                    name: labelOf(latest, name),
                    type: 'line',
                    data: items.map((s) => s.components[name]?.value ?? null),
                  },
                  ...(typeof latest?.components[name]?.peerMedian === 'number'
                    ? [
                        {
                          name: `${labelOf(latest, name)} 同级中位数`,
                          type: 'line',
                          lineStyle: { type: 'dashed' },
                          data: items.map((s) => s.components[name]?.peerMedian ?? null),
                        },
                      ]
                    : []),
                ]),
              }}
            />
          </section>
          {latest && (
            <section class="panel">
              <h2>
                {latest.period} 指标构成 components（病例数 {latest.cases}）
              </h2>
              <table aria-label="指标构成 components">
                <thead>
                  <tr>
                    <th>指标 component</th>
                    <th class="num">值 value</th>
                    <th class="num">同级中位数 peer median</th>
                    <th class="num">得分 score</th>
                    <th>口径 how</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(latest.components).map(([name, c]) => (
                    <tr key={name}>
                      <td>{labelOf(latest, name)}</td>
                      <td class="num">{figure(c.value)}</td>
                      <td class="num">{figure(c.peerMedian)}</td>
                      <td class="num">{figure(c.score)}</td>
                      <td>{c.how}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </>
      )}
    </main>
  );
}
