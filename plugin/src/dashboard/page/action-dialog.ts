// The reason dialog of promote, set-state and approve: a modal <dialog>
// (the browser keeps focus inside it and Escape cancels), a labelled reason
// field, the target state for set-state, break glass for promote where the
// user holds override, revoke for approve. Confirm sends the change; a
// refusal's Status message is shown in the dialog, which stays open.
import type { DetailView } from '../view-model.ts';
import type { ActionKind } from './detail-panel.ts';
import { byId, h } from './dom.ts';

export interface ActionRequest {
  kind: ActionKind;
  body: Record<string, unknown>;
}

export class ActionDialog {
  private readonly dialog = byId<HTMLDialogElement>('action-dialog');
  private readonly form = byId<HTMLFormElement>('action-form');
  private readonly title = byId('action-title');
  private readonly summary = byId('action-summary');
  private readonly targetRow = byId('target-row');
  private readonly target = byId<HTMLSelectElement>('action-target');
  private readonly reason = byId<HTMLTextAreaElement>('action-reason');
  private readonly reasonNote = byId('reason-required');
  private readonly overrideRow = byId('override-row');
  private readonly override = byId<HTMLInputElement>('action-override');
  private readonly revokeRow = byId('revoke-row');
  private readonly revoke = byId<HTMLInputElement>('action-revoke');
  private readonly error = byId('action-error');
  private readonly confirm = byId<HTMLButtonElement>('action-confirm');
  private submit: (() => Promise<void>) | undefined;

  constructor() {
    byId('action-cancel').addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit?.();
    });
  }

  /** Opens the dialog for `kind` on the object `v` describes; `send` makes the change and throws the refusal. */
  open(kind: ActionKind, v: DetailView, name: string, send: (r: ActionRequest) => Promise<string>, done: (message: string) => void): void {
    const from = v.state;
    this.error.textContent = '';
    this.reason.value = '';
    this.override.checked = false;
    this.revoke.checked = false;
    this.targetRow.hidden = kind !== 'set-state';
    this.overrideRow.hidden = !(kind === 'promote' && v.promote.override);
    this.revokeRow.hidden = kind !== 'approve';
    const required = kind === 'promote' && v.promote.reasonRequired;
    this.reason.required = required;
    this.reasonNote.textContent = required ? '(required)' : '(optional)';
    if (kind === 'set-state') this.target.replaceChildren(...v.setState.targets.map((s) => h('option', { value: s }, s)));
    if (kind === 'promote') {
      this.title.textContent = `Promote ${name}`;
      this.summary.textContent = `${from} → ${v.nextState ?? ''}${v.promote.override ? ' — the gates refuse this move now; only an override (recorded, with a Warning event) makes it' : ''}`;
      this.override.checked = v.promote.override;
    } else if (kind === 'set-state') {
      this.title.textContent = `Set the state of ${name}`;
      this.summary.textContent = `now in ${from}; any state on the path, also backwards`;
    } else {
      this.title.textContent = `Approve ${name}`;
      this.summary.textContent = `the move ${from} → ${v.approve.to ?? ''}, by someone other than you`;
    }
    this.confirm.textContent = kind === 'promote' ? 'Promote' : kind === 'set-state' ? 'Set state' : 'Approve';
    this.submit = async () => {
      const reason = this.reason.value.trim();
      if (required && !reason) {
        this.error.textContent = 'A reason is required for this move.';
        this.reason.focus();
        return;
      }
      const body: Record<string, unknown> = { from, ...(reason ? { reason } : {}) };
      if (kind === 'set-state') body['state'] = this.target.value;
      if (kind === 'promote' && this.override.checked) body['override'] = true;
      if (kind === 'approve') {
        if (v.approve.to) body['to'] = v.approve.to;
        if (this.revoke.checked) body['revoke'] = true;
      }
      this.confirm.disabled = true;
      try {
        const message = await send({ kind, body });
        this.dialog.close();
        done(message);
      } catch (e) {
        this.error.textContent = e instanceof Error ? e.message : String(e);
      } finally {
        this.confirm.disabled = false;
      }
    };
    this.dialog.showModal();
    (kind === 'set-state' ? this.target : this.reason).focus();
  }
}
