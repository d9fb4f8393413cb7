/**
 * Debian's Chromium for the tests that drive a page (the live view, the chaos
 * report, the trace waterfall): installed when missing and allowed (CI and
 * this project's machines run as root), launched headless with nothing that
 * reaches the network.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const kChromium = '/usr/bin/chromium';
const kArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function ensureChromium(): void {
  if (existsSync(kChromium)) return;
  if (process.getuid?.() !== 0) throw new Error(`${kChromium} is missing: apt-get install chromium (Debian) to run the browser tests`);
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium'], { stdio: 'inherit', timeout: 600_000 });
}

export function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: kChromium, args: kArgs, headless: true });
}
