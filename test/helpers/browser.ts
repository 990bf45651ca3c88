import fs from 'node:fs'
import type { Test } from 'tap'
import type { Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Debian's Chromium, headless, one page of a laptop's size; closed at teardown. Screenshots go to `shots`. */
export async function openPage(t: Test, shots: string): Promise<Page> {
  const { chromium } = await import('playwright-core')
  fs.mkdirSync(shots, { recursive: true })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1366, height: 800 } })
  page.setDefaultTimeout(90_000)
  return page
}
