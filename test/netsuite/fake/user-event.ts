import type { BillSnapshot, SaveType, VendorBill } from './account.ts'
import type { createLoader } from './amd.ts'
import type { ScriptEnv } from './env.ts'

const USER_EVENT_TYPE = { CREATE: 'create', EDIT: 'edit', XEDIT: 'xedit', DELETE: 'delete', APPROVE: 'approve', CANCEL: 'cancel', REJECT: 'reject' }

/**
 * Deploys the kit's User Event script on vendor bills: every save runs its beforeSubmit in the saver's context
 * (type edit from a form, xedit from submitFields); a delete runs its afterSubmit (type delete) once the bill is
 * gone, with the bill as it was as oldRecord ("afterSubmit(context)", "context.UserEventType"; netsuite/README.md).
 */
export function deployUserEvent(env: ScriptEnv, loader: ReturnType<typeof createLoader>): void {
  const script = loader.load('bb_edit_ue')
  const inContext = <T>(executionContext: string, run: () => T): T => {
    const saved = env.executionContext
    env.executionContext = executionContext
    try {
      return run()
    } finally {
      env.executionContext = saved
    }
  }
  const snapshot = (bill: BillSnapshot) => ({ id: bill.id, type: 'vendorbill', getValue: ({ fieldId }: { fieldId: string }) => bill.custom[fieldId] ?? '' })
  env.account.beforeSubmit = (bill: VendorBill, changes: Record<string, string>, executionContext: string, type: SaveType) => {
    const final = { ...changes }
    inContext(executionContext, () => script.beforeSubmit({
      type,
      UserEventType: USER_EVENT_TYPE,
      oldRecord: snapshot(bill),
      newRecord: {
        id: bill.id,
        getValue: ({ fieldId }: { fieldId: string }) => final[fieldId] ?? bill.custom[fieldId] ?? '',
        setValue: ({ fieldId, value }: { fieldId: string; value: string }) => {
          final[fieldId] = value
        },
      },
    }))
    return final
  }
  env.account.afterDelete = (bill: BillSnapshot, executionContext: string) => {
    inContext(executionContext, () => script.afterSubmit({ type: 'delete', UserEventType: USER_EVENT_TYPE, oldRecord: snapshot(bill), newRecord: snapshot(bill) }))
  }
}
