import { useEffect, useRef } from 'react';

/** A modal asking to confirm an operation; Escape or Cancel closes it. */
export function ConfirmDialog({ title, message, confirmLabel, danger, busy, onConfirm, onCancel }) {
  const ok = useRef(null);
  useEffect(() => {
    ok.current?.focus();
    const onKey = (e) => e.key === 'Escape' && onCancel();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onCancel]);
  return (
    <div className="modal-backdrop" onClick={onCancel}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        onClick={(e) => e.stopPropagation()}
      >
        <h3 id="confirm-title">{title}</h3>
        <p>{message}</p>
        <div className="modal-actions">
          <button type="button" className="btn" data-testid="confirm-cancel" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            ref={ok}
            className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`}
            data-testid="confirm-ok"
            onClick={onConfirm}
            disabled={busy}
          >
            {busy ? 'Sending…' : confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
