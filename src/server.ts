import { run } from './main.ts'

run().catch((err: unknown) => {
  process.stderr.write(`billbridge: failed to start: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
