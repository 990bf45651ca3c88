import { SuiteScriptError } from './errors.ts'
import type { ScriptEnv } from './env.ts'
import { COST, MAX_FILE_CONTENT_BYTES } from './limits.ts'

export function createFileModule(env: ScriptEnv) {
  return {
    Type: { PDF: 'PDF', PLAINTEXT: 'PLAINTEXT', PNGIMAGE: 'PNGIMAGE' },
    load({ id }: { id: string | number }) {
      env.meter.spend(COST.fileLoad, 'file.load')
      const stored = env.account.files.get(String(id))
      if (!stored) throw new SuiteScriptError('RCRD_DSNT_EXIST', `That record does not exist. file ${id}`)
      return {
        id: stored.id,
        name: stored.name,
        fileType: stored.fileType,
        size: stored.size,
        /** "File.getContents()": base64 for binary files, at most 10 MB (SSS_FILE_CONTENT_SIZE_EXCEEDED). */
        getContents() {
          env.meter.checkTime('File.getContents')
          if (stored.size > MAX_FILE_CONTENT_BYTES) throw new SuiteScriptError('SSS_FILE_CONTENT_SIZE_EXCEEDED', `file ${stored.id} is ${stored.size} bytes; getContents holds at most ${MAX_FILE_CONTENT_BYTES}`)
          const content = stored.content()
          return stored.fileType === 'PLAINTEXT' ? content.toString('utf8') : content.toString('base64')
        },
      }
    },
  }
}
