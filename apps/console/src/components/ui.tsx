import { Dialog as RadixDialog } from 'radix-ui';
import { useId, type ButtonHTMLAttributes, type ReactNode } from 'react';

export function Button({
  variant = 'default',
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'default' | 'primary' | 'danger' }) {
  return <button type="button" {...props} className={`btn btn-${variant} ${props.className ?? ''}`} />;
}

/** An accessible modal (Radix: focus trap, Escape, labelled by its title). */
export function Dialog({
  open,
  onOpenChange,
  title,
  description,
  children,
}: {
  open: boolean;
  onOpenChange(open: boolean): void;
  title: string;
  description?: string;
  children: ReactNode;
}) {
  return (
    <RadixDialog.Root open={open} onOpenChange={onOpenChange}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="overlay" />
        <RadixDialog.Content className="dialog" aria-describedby={undefined}>
          <RadixDialog.Title>{title}</RadixDialog.Title>
          {description && <RadixDialog.Description className="muted">{description}</RadixDialog.Description>}
          {children}
          <RadixDialog.Close asChild>
            <button type="button" className="btn dialog-close" aria-label="Close">
              ×
            </button>
          </RadixDialog.Close>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}

/** A labelled input or select for a filter bar. */
export function Field({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

export function Select({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string | undefined;
  options: readonly string[];
  onChange(value: string | undefined): void;
}) {
  return (
    <Field label={label}>
      {(id) => (
        <select id={id} value={value ?? ''} onChange={(event) => onChange(event.target.value || undefined)}>
          <option value="">any</option>
          {options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Search({
  value,
  onChange,
  label = 'Search',
  placeholder = 'name, host, URL…',
}: {
  value?: string;
  onChange(v?: string): void;
  label?: string;
  placeholder?: string;
}) {
  return (
    <Field label={label}>
      {(id) => (
        <input
          id={id}
          type="search"
          defaultValue={value ?? ''}
          placeholder={placeholder}
          onKeyDown={(event) => {
            if (event.key === 'Enter') onChange((event.target as HTMLInputElement).value.trim() || undefined);
          }}
          onBlur={(event) => onChange(event.target.value.trim() || undefined)}
        />
      )}
    </Field>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: string; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function List({ items }: { items: readonly string[] | undefined | null }) {
  if (!items?.length) return <span className="muted">—</span>;
  return (
    <span className="chips">
      {items.map((item, index) => (
        <code key={`${index}-${item}`}>{item}</code>
      ))}
    </span>
  );
}
