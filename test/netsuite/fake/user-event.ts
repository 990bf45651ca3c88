import type { VendorBill } from './account.ts'
import type { createLoader } from './amd.ts'
import type { ScriptEnv } from './env.ts'

/** Deploys the kit's User Event script on vendor bills: every save runs its beforeSubmit in the saver's context. */
export function deployUserEvent(env: ScriptEnv, loader: ReturnType<typeof createLoader>): void {
  const script = loader.load('bb_edit_ue')
  env.account.beforeSubmit = (bill: VendorBill, changes: Record<string, string>, executionContext: string) => {
    const final = { ...changes }
    const saved = env.executionContext
    env.executionContext = executionContext
    try {
      script.beforeSubmit({
        type: executionContext === 'MAPREDUCE' ? 'xedit' : 'edit',
        UserEventType: { CREATE: 'create', EDIT: 'edit', XEDIT: 'xedit', DELETE: 'delete' },
        oldRecord: { getValue: ({ fieldId }: { fieldId: string }) => bill.custom[fieldId] ?? '' },
        newRecord: {
          getValue: ({ fieldId }: { fieldId: string }) => final[fieldId] ?? bill.custom[fieldId] ?? '',
          setValue: ({ fieldId, value }: { fieldId: string; value: string }) => {
            final[fieldId] = value
          },
        },
      })
    } finally {
      env.executionContext = saved
    }
    return final
  }
}
