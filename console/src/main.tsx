/** The console: one app for auditors, hospitals and rule authors; the path picks the page, the query holds the filters. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiProblem, api, type MeAnswer, token } from './api.ts';
import { FlagPage } from './flag.tsx';
import { ROLE_LABELS } from './labels.ts';
import { Queue } from './queue.tsx';
import { navigate, useLocation } from './router.ts';
import { RulesPage } from './rules.tsx';
import { Scorecard } from './scorecard.tsx';

function Login({ error }: { error?: string }) {
  const [value, setValue] = useState('');
  return (
    <main class="login">
      <h1>
        FundGuard 医保基金监管审核台<span class="en">review console</span>
      </h1>
      {error && <p class="alert error">{error}</p>}
      <p class="muted">
        用 <code>npm start</code> 打印的登录链接进入，或粘贴令牌（.fundguard/review-tokens.local.json）。
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          token.set(value.trim());
          navigate('/');
        }}
      >
        <label>
          令牌 token
          <input
            aria-label="令牌 token"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            style="width:100%"
          />
        </label>
        <div class="actions">
          <button class="primary" type="submit">
            登录
          </button>
        </div>
      </form>
    </main>
  );
}

function App() {
  const location = useLocation();
  const [me, setMe] = useState<MeAnswer | null>(null);
  const [error, setError] = useState<string | undefined>();

  // /login#token=… signs in and moves on to the queue; the token never stays in the address bar.
  useEffect(() => {
    if (location.path === '/login' && location.hash.startsWith('#token=')) {
      token.set(decodeURIComponent(location.hash.slice('#token='.length)));
      navigate('/', true);
    }
  }, [location.path, location.hash]);

  const current = token.get();
  useEffect(() => {
    if (!current || location.path === '/login') return;
    setMe(null);
    api.me().then(setMe, (e: unknown) => {
      token.clear();
      setError(e instanceof ApiProblem ? `登录失败：${e.message}` : String(e));
      navigate('/login', true);
    });
  }, [current]);

  if (location.path === '/login' || !current) return <Login error={error} />;
  if (!me) return <main class="muted">加载中…</main>;

  const nav: [string, string, boolean][] = [
    ['/', me.role === 'hospital' ? '本院疑点 flags' : '审核队列 queue', true],
    ['/scorecard', '评分卡 scorecard', true],
    ['/rules', '规则准确率 rule precision', me.role !== 'hospital'],
  ];
  const page = location.path.startsWith('/flags/') ? (
    <FlagPage flagId={decodeURIComponent(location.path.slice('/flags/'.length))} me={me} />
  ) : location.path === '/scorecard' ? (
    <Scorecard me={me} query={location.query} />
  ) : location.path === '/rules' ? (
    <RulesPage />
  ) : (
    <Queue me={me} query={location.query} />
  );
  return (
    <>
      <header class="top">
        <strong>FundGuard</strong>
        <nav aria-label="主导航" style="display:flex;gap:14px">
          {nav
            .filter(([, , shown]) => shown)
            .map(([href, label]) => (
              <a
                key={href}
                href={href}
                aria-current={location.path === href ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(href);
                }}
              >
                {label}
              </a>
            ))}
        </nav>
        <span class="who">
          {ROLE_LABELS[me.role]} {me.hospitalId ?? ''} · {me.actorId}{' '}
          <button
            type="button"
            onClick={() => {
              token.clear();
              navigate('/login');
            }}
          >
            退出
          </button>
        </span>
      </header>
      {page}
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
