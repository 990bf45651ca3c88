import fs from 'node:fs/promises'
import t from 'tap'
import { validate } from 'dockerfile-utils'

const text = await fs.readFile('Dockerfile', 'utf8')

t.test('the Dockerfile lints clean', async (t) => {
  const problems = validate(text)
  t.same(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`), [], 'no lint findings')
})

t.test('the Dockerfile keeps the deployment rules', async (t) => {
  const stages = text.match(/^FROM .+$/gm) ?? []
  t.ok(stages.length >= 2, 'multi-stage')
  for (const stage of stages) t.match(stage, /^FROM node:24-slim\b/, 'node:24-slim')
  t.match(text, /RUN npm ci --omit=dev/, 'installs from the lockfile without dev dependencies')
  t.match(text, /^USER node$/m, 'runs as the non-root node user')
  t.match(text, /HEALTHCHECK[\s\S]*\/health\/live/, 'health check on /health/live')
  t.match(text, /NODE_ENV=production/, 'production mode: no embedded defaults')
  const ignore = await fs.readFile('.dockerignore', 'utf8')
  for (const entry of ['node_modules', 'data', '.git']) t.match(ignore, new RegExp(`^${entry.replace('.', '\\.')}$`, 'm'), `.dockerignore leaves out ${entry}`)
})
