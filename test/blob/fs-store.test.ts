import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createBlobStore } from '../../src/blob/index.ts'
import { generatedStream } from '../helpers/streams.ts'
import { blobStoreContract } from './contract.ts'

const MB = 1024 * 1024

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-blobs-'))
t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
const root = path.join(dir, 'blobs')
const store = await createBlobStore({ kind: 'fs', root })
t.equal(store.kind, 'fs')

async function keysLeft(): Promise<string[]> {
  const keys: string[] = []
  for await (const info of store.listOlderThan(new Date(Date.now() + 3_600_000))) keys.push(info.key)
  return keys
}

await blobStoreContract(t, store, keysLeft)

t.test('failed puts leave the temp folder empty', async (t) => {
  t.same(await fs.readdir(path.join(root, '.tmp')), [])
})

t.test('a crash mid-write leaves only a temp file, which the sweep listing reports once it is old', async (t) => {
  const temp = path.join(root, '.tmp', 'crashed.part')
  await fs.writeFile(temp, 'half a pdf')
  t.equal(await store.head('crashed.part'), null, 'nothing under a real name')
  const listed = async (cutoff: Date) => {
    const keys: string[] = []
    for await (const info of store.listOlderThan(cutoff)) keys.push(info.key)
    return keys
  }
  t.notOk((await listed(new Date(Date.now() - 60_000))).includes('.tmp/crashed.part'), 'a fresh temp file (a put in progress) is not listed')
  const hourAgo = new Date(Date.now() - 3_600_000)
  await fs.utimes(temp, hourAgo, hourAgo)
  t.ok((await listed(new Date(Date.now() - 60_000))).includes('.tmp/crashed.part'), 'an abandoned temp file is listed for the sweep')
  await store.delete('.tmp/crashed.part')
  t.notOk((await keysLeft()).includes('.tmp/crashed.part'))
  await t.rejects(store.put('.tmp/sneaky.pdf', generatedStream(10).chunks), { code: 'BLOB_KEY_INVALID' }, 'puts cannot write into the temp folder')
})

t.test('a folder is not a blob', async (t) => {
  await store.put('folder/inside.pdf', generatedStream(10).chunks)
  await t.rejects(store.get('folder'), { code: 'BLOB_NOT_FOUND' })
  t.equal(await store.head('folder'), null)
  await store.delete('folder')
  t.ok(await store.head('folder/inside.pdf'), 'deleting a folder key deletes nothing')
})

t.test('a store whose disk is gone reports BLOB_STORE_UNAVAILABLE', async (t) => {
  const broken = path.join(dir, 'not-a-folder')
  await fs.writeFile(broken, 'the disk is gone')
  const gone = await createBlobStore({ kind: 'fs', root: broken })
  await t.rejects(gone.check(), { code: 'BLOB_STORE_UNAVAILABLE', statusCode: 503 })
  await t.rejects(gone.put('a.pdf', generatedStream(MB).chunks), { code: 'BLOB_STORE_UNAVAILABLE' })
  t.equal(await gone.head('a.pdf'), null)
})

