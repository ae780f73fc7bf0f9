/**
 * The console in Debian's Chromium (driven by Playwright) against the local stack: an auditor
 * filters the queue, opens a flag and confirms it; a second auditor's stale decision meets the
 * conflict; a hospital sees only its own flags and appeals one; an auditor decides the appeal;
 * the scorecard draws its charts. The screenshots in docs/screenshots come from these tests.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, expect, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildConsole } from '../../console/build.ts';
import { sampleClaims, sampleScores, writeSampleClaims, writeScores } from '../helpers/review.ts';
import { type ReviewStack, startReviewStack } from '../helpers/review-stack.ts';

/** Debian's `chromium` package (.ci/run installs it): Playwright's own browser download is not reachable here. */
const CHROMIUM = process.env.FUNDGUARD_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

let stack: ReviewStack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const claims = sampleClaims(40, { stepMinutes: 3 * 24 * 60, start: '2026-08-01T08:00:00Z' });
const flags = claims.flatMap((c) => c.flags);

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set FUNDGUARD_CHROMIUM)`);
  await buildConsole();
  stack = await startReviewStack('e2e');
  await writeSampleClaims(stack.documents, stack.resources.tables, claims);
  const months = ['2026-07', '2026-08', '2026-09', '2026-10'];
  await writeScores(stack.documents, stack.resources.tables.scores, [
    ...sampleScores('H3001', months, 4),
    ...sampleScores('H3002', months).map((s) => ({ ...s, composite: s.composite - 8 })),
    ...sampleScores('H2001', months).map((s) => ({ ...s, composite: s.composite + 5 })),
    ...sampleScores('H3003', months).map((s) => ({ ...s, composite: s.composite + 10 })),
  ]);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack?.stop();
});

/** A fresh browser session signed in with `token` through the console's login link. */
async function signIn(token: string, path = '/'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${stack.review.url}/login#token=${token}`);
  await expect(page.getByRole('navigation', { name: '主导航' })).toBeVisible();
  if (path !== '/') await page.goto(`${stack.review.url}${path}`);
  return page;
}

const statusOf = (page: Page) => page.getByRole('region', { name: '疑点 flag' }).getByTestId('status');

async function decideOnPage(page: Page, button: string, reason: string, evidence?: string): Promise<void> {
  await page.getByRole('region', { name: '处理 decide' }).getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('理由 reason').fill(reason);
  if (evidence) await dialog.getByLabel('证据说明 evidence').fill(evidence);
  await dialog.getByRole('button', { name: '提交 submit' }).click();
}

/** The flag every step of the appeal story works on: H3001's newest high-severity violation. */
const appealed = flags
  .filter((f) => f.hospitalId === 'H3001' && f.severity === 'high')
  .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];

describe('the console', () => {
  it('lets an auditor filter the queue, open a flag and confirm it', async () => {
    if (!appealed) throw new Error('the sample has no high-severity flag of H3001');
    const page = await signIn(stack.token('auditor-1'));
    const table = page.getByRole('table', { name: '疑点列表 flags' });
    await expect(table.getByRole('row')).toHaveCount(flags.length + 1);
    await page.getByLabel('医院 hospital').fill('H3001');
    await page.getByLabel('医院 hospital').press('Enter');
    await page.getByLabel('严重程度 severity').selectOption('high');
    await expect(page).toHaveURL(/hospital=H3001/);
    await expect(page).toHaveURL(/severity=high/);
    const expected = flags.filter((f) => f.hospitalId === 'H3001' && f.severity === 'high');
    await expect(table.getByRole('row')).toHaveCount(expected.length + 1);
    await expect(page.getByRole('region', { name: '统计 counts' })).toContainText(
      `合计 total${expected.length}`,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'queue.png') });

    await table.locator(`tr[data-flag-id="${appealed.flagId}"]`).getByRole('link').click();
    await expect(page.getByRole('heading', { name: `疑点 ${appealed.flagId}` })).toBeVisible();
    await expect(
      page.getByRole('table', { name: '结算单明细 claim lines' }).locator('tr.flagged'),
    ).toHaveCount(appealed.lineNos.length);
    await expect(page.getByLabel('知识点原文 basis text')).toHaveText(appealed.basis.text ?? '');
    await page.screenshot({ path: join(SCREENSHOTS, 'flag.png'), fullPage: true });
    await decideOnPage(page, '确认违规', '患者为女性，药品限男性使用，知识点原文明确');
    await expect(statusOf(page)).toHaveText('已确认违规');
    await expect(page.getByRole('region', { name: '审核记录 trail' })).toContainText('患者为女性');
  });

  it("shows a second auditor's stale decision the conflict and the flag's current state", async () => {
    const target = flags.find((f) => f.hospitalId === 'H3002' && f.flagId.endsWith('-0'));
    if (!target) throw new Error('no H3002 flag');
    const first = await signIn(stack.token('auditor-1'), `/flags/${target.flagId}`);
    const second = await signIn(stack.token('auditor-2'), `/flags/${target.flagId}`);
    await expect(statusOf(second)).toHaveText('待初审');
    await decideOnPage(first, '排除', '经核实为录入错误');
    await expect(statusOf(first)).toHaveText('已排除');
    await decideOnPage(second, '确认违规', '确认');
    await expect(second.getByRole('alert')).toContainText('冲突：该疑点已被他人处理，当前状态为「已排除」');
    await expect(statusOf(second)).toHaveText('已排除');
  });

  it('triages from the keyboard: j/k to move, c to confirm with a reason', async () => {
    const page = await signIn(stack.token('auditor-2'), '/?hospital=H2001&status=open');
    const rows = page.getByRole('table', { name: '疑点列表 flags' }).locator('tbody tr');
    await expect(rows.first()).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await expect(rows.nth(1)).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('c');
    await page.getByRole('dialog').getByLabel('理由 reason').fill('键盘确认');
    await page.keyboard.press('Enter');
    await expect(rows.nth(1).locator('td.status')).toHaveText('已确认违规');
    await page.keyboard.press('j');
    await page.keyboard.press('d');
    await page.getByRole('dialog').getByLabel('理由 reason').fill('键盘排除');
    await page.getByRole('dialog').getByRole('button', { name: '提交 submit' }).click();
    await expect(rows.nth(2).locator('td.status')).toHaveText('已排除');
  });

  it("shows a hospital only its own flags, not another's by URL, and takes its appeal", async () => {
    if (!appealed) throw new Error('no flag');
    const page = await signIn(stack.hospitalToken('H3001'));
    const table = page.getByRole('table', { name: '疑点列表 flags' });
    await expect(table.getByRole('row')).toHaveCount(
      flags.filter((f) => f.hospitalId === 'H3001').length + 1,
    );
    for (const cell of await table.locator('tbody tr td:nth-child(5)').allTextContents())
      expect(cell).toBe('H3001');

    const foreign = flags.find((f) => f.hospitalId === 'H3002');
    await page.goto(`${stack.review.url}/flags/${foreign?.flagId}`);
    await expect(page.getByRole('alert')).toHaveText('未找到该疑点 (flag not found)');

    await page.goto(`${stack.review.url}/flags/${appealed.flagId}`);
    await expect(statusOf(page)).toHaveText('已确认违规');
    await decideOnPage(
      page,
      '提出申诉',
      '该患者病历记载性别有误，已更正',
      '附：更正后的病案首页（第1页），身份证复印件',
    );
    await expect(statusOf(page)).toHaveText('申诉中');
    await expect(page.getByRole('region', { name: '审核记录 trail' })).toContainText(
      '证据：附：更正后的病案首页',
    );
  });

  it('lets an auditor decide the appeal', async () => {
    if (!appealed) throw new Error('no flag');
    const page = await signIn(stack.token('auditor-2'), `/flags/${appealed.flagId}`);
    await expect(statusOf(page)).toHaveText('申诉中');
    await decideOnPage(page, '申诉成立（撤销）', '病案首页更正属实，撤销违规认定');
    await expect(statusOf(page)).toHaveText('申诉成立（撤销）');
    await expect(page.getByRole('region', { name: '审核记录 trail' }).getByRole('listitem')).toHaveCount(3);
  });

  it('decides checked rows with one reason and shows each flag’s outcome, a stale one refused', async () => {
    const page = await signIn(stack.token('auditor-1'), '/?hospital=H3002&status=open');
    const rows = page.getByRole('table', { name: '疑点列表 flags' }).locator('tbody tr');
    await expect(rows.first()).toBeVisible();
    const ids = await rows.evaluateAll((trs) =>
      trs.slice(0, 3).map((tr) => tr.getAttribute('data-flag-id') ?? ''),
    );
    for (const id of ids) await page.getByLabel(`选择 check ${id}`).check();
    const bulk = page.getByRole('region', { name: '批量处理 bulk decisions' });
    await expect(bulk).toContainText('已选 3 条');
    // Another auditor takes the second flag meanwhile: the bulk must refuse it and decide the others.
    const stale = ids[1] ?? '';
    const meanwhile = await fetch(`${stack.review.url}/v1/review/flags/${stale}/transitions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token('auditor-2')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'escalate', reason: '复审', expectedVersion: 0 }),
    });
    expect(meanwhile.status).toBe(200);
    await bulk.getByRole('button', { name: '批量排除 dismiss checked' }).click();
    await page.getByRole('dialog').getByLabel('理由 reason').fill('同一批录入错误，经核实排除');
    await page.getByRole('dialog').getByRole('button', { name: '提交 submit' }).click();
    const results = page.getByRole('table', { name: '批量结果 bulk results' });
    await expect(results.locator('tbody tr')).toHaveCount(3);
    await expect(results.locator('tr', { hasText: ids[0] ?? '' })).toContainText('完成 done');
    await expect(results.locator('tr', { hasText: ids[2] ?? '' })).toContainText('已排除');
    await expect(results.locator('tr', { hasText: stale })).toContainText('未处理 refused');
    await expect(results.locator('tr', { hasText: stale })).toContainText('待复审');
    await expect(page.getByRole('alert')).toContainText('2/3 条完成');
    await page.screenshot({ path: join(SCREENSHOTS, 'bulk.png') });
    // The queue reloads: the dismissed flags have left the open list.
    await expect(rows.locator(`[data-flag-id="${ids[0]}"]`)).toHaveCount(0);
    await expect(
      page.getByRole('table', { name: '疑点列表 flags' }).locator(`tr[data-flag-id="${ids[0]}"]`),
    ).toHaveCount(0);
  });

  it('decides a whole filtered set with one reason', async () => {
    const set = flags.filter((f) => f.hospitalId === 'H2001' && f.stage === 'post');
    const page = await signIn(stack.token('auditor-1'), '/?hospital=H2001&stage=post&status=open');
    const open = page.getByRole('table', { name: '疑点列表 flags' }).locator('tbody tr');
    const shown = await open.count();
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(set.length);
    await page
      .getByRole('region', { name: '批量处理 bulk decisions' })
      .getByRole('button', { name: `筛选结果全部确认违规（${shown} 条）confirm filtered set` })
      .click();
    await page.getByRole('dialog').getByLabel('理由 reason').fill('事后审核确认');
    await page.getByRole('dialog').getByRole('button', { name: '提交 submit' }).click();
    const results = page.getByRole('table', { name: '批量结果 bulk results' });
    await expect(results.locator('tbody tr')).toHaveCount(shown);
    await expect(results.locator('tbody tr', { hasText: '完成 done' })).toHaveCount(shown);
    await expect(page.getByRole('status').first()).toContainText(`${shown}/${shown} 条完成`);
    await expect(page.getByText('没有符合条件的疑点')).toBeVisible();
  });

  it('draws the scorecard: composite against peers, doctors and components', async () => {
    const page = await signIn(stack.token('auditor-1'), '/scorecard?hospital=H3001');
    for (const name of [
      '综合得分趋势 composite over periods',
      "医生综合得分 doctors' composite",
      '指标趋势 components over periods',
    ])
      await expect(page.getByRole('img', { name }).locator('canvas')).toHaveCount(1);
    await expect(page.getByRole('table', { name: '指标构成 components' })).toContainText(
      'observed ÷ peer median',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'scorecard.png'), fullPage: true });
    const empty = await signIn(stack.token('auditor-1'), '/scorecard?hospital=H1002');
    await expect(empty.getByRole('status')).toContainText('暂无评分数据');
  });
});
