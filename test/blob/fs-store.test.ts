import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createFsBlobStore } from '../../src/blob/fs-store.ts'
import { blobStoreContract } from './contract.ts'

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-blobs-'))
t.teardown(() => fs.rm(root, { recursive: true, force: true }))
const store = createFsBlobStore({ root })

async function keysLeft(): Promise<string[]> {
  const keys: string[] = []
  for await (const info of store.listOlderThan(new Date(Date.now() + 3_600_000))) keys.push(info.key)
  return keys
}

await blobStoreContract(t, store, keysLeft)

t.test('a crash mid-write leaves only a temp file, which the sweep listing reports', async (t) => {
  await fs.mkdir(path.join(root, '.tmp'), { recursive: true })
  await fs.writeFile(path.join(root, '.tmp', 'crashed.part'), 'half a pdf')
  t.equal(await store.head('crashed.part'), null, 'nothing under a real name')
  const keys = await keysLeft()
  t.ok(keys.includes('.tmp/crashed.part'), 'the temp file is listed for the sweep')
  await store.delete('.tmp/crashed.part')
  t.notOk((await keysLeft()).includes('.tmp/crashed.part'))
})
