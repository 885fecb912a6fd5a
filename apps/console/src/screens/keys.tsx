import { useMutation, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import type { ColumnDef } from '@tanstack/react-table';
import { Tabs } from 'radix-ui';
import { useState } from 'react';
import { DataTable } from '../components/data-table';
import { ErrorState, Loading, when } from '../components/states';
import { Badge, Button, Dialog, Field } from '../components/ui';
import { isNotFound, send } from '../lib/api';
import { useAuth } from '../lib/auth';
import { usePaged } from '../lib/hooks';
import type { ApiKeyView, CreatedApiKey, SessionView, TenantView } from '../lib/types';

const routeApi = getRouteApi('/keys');
const ROLES = ['admin', 'analyst', 'viewer', 'fleet-push', 'proxy', 'gateway'];

/** A raw key, shown once: it is in this dialog's memory only, never stored or logged by the console. */
function ShownOnce({ created, onClose }: { created: CreatedApiKey | null; onClose(): void }) {
  return (
    <Dialog
      open={!!created}
      onOpenChange={(open) => !open && onClose()}
      title="Copy the key now"
      description="It is shown once and cannot be read again."
    >
      {created && (
        <>
          <p>
            Key <strong>{created.key.name}</strong> ({created.key.role})
          </p>
          <code className="secret wrap" data-testid="raw-key">
            {created.raw_key}
          </code>
          <Button variant="primary" onClick={() => void navigator.clipboard?.writeText(created.raw_key)}>
            Copy
          </Button>
        </>
      )}
    </Dialog>
  );
}

function KeysTab() {
  const client = useQueryClient();
  const keys = usePaged<ApiKeyView>('/v1/auth/keys');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const [form, setForm] = useState({ name: '', role: 'viewer', expires_in: '' });
  const refresh = () => client.invalidateQueries({ queryKey: ['/v1/auth/keys'] });
  const create = useMutation({
    mutationFn: () =>
      send<CreatedApiKey>('POST', '/v1/auth/keys', {
        name: form.name || undefined,
        role: form.role,
        expires_in: form.expires_in || undefined,
      }),
    onSuccess: (answer) => {
      setCreating(false);
      setCreated(answer);
      void refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: (id: string) => send<CreatedApiKey>('POST', `/v1/auth/keys/${id}/rotate`, {}),
    onSuccess: (answer) => {
      setCreated(answer);
      void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => send('DELETE', `/v1/auth/keys/${id}`),
    onSuccess: () => {
      setRevoking(null);
      void refresh();
    },
  });
  const columns: ColumnDef<ApiKeyView, unknown>[] = [
    { id: 'name', header: 'Name', accessorKey: 'name' },
    { id: 'role', header: 'Role', accessorKey: 'role' },
    {
      id: 'prefix',
      header: 'Prefix',
      accessorKey: 'prefix',
      cell: ({ getValue }) => <code>{String(getValue())}…</code>,
    },
    {
      id: 'status',
      header: 'Status',
      accessorKey: 'status',
      cell: ({ getValue }) => (
        <Badge tone={getValue() === 'active' ? 'ok' : 'bad'}>{String(getValue())}</Badge>
      ),
    },
    {
      id: 'last',
      header: 'Last used',
      accessorKey: 'last_used_at',
      cell: ({ getValue }) => when(getValue() as string | null),
    },
    {
      id: 'expires',
      header: 'Expires',
      accessorKey: 'expires_at',
      cell: ({ getValue }) => when(getValue() as string | null),
    },
    {
      id: 'actions',
      header: 'Actions',
      enableSorting: false,
      cell: ({ row }) =>
        row.original.status === 'active' && (
          <span className="actions">
            <Button onClick={() => rotate.mutate(row.original.id)} aria-label={`Rotate ${row.original.name}`}>
              Rotate
            </Button>
            <Button
              variant="danger"
              aria-label={`Revoke ${row.original.name}`}
              onClick={() => setRevoking(row.original)}
            >
              Revoke
            </Button>
          </span>
        ),
    },
  ];
  return (
    <>
      <div className="filters">
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create key
        </Button>
      </div>
      {[create.error, rotate.error, revoke.error].filter(Boolean).map((error, index) => (
        <ErrorState key={index} error={error} />
      ))}
      {keys.isPending ? (
        <Loading />
      ) : keys.isError ? (
        <ErrorState error={keys.error} what="API keys" />
      ) : (
        <DataTable
          label="API keys"
          rows={keys.rows}
          columns={columns}
          rowKey={(k) => k.id}
          empty="No API key."
          hasMore={keys.hasNextPage}
          onLoadMore={() => void keys.fetchNextPage()}
        />
      )}
      <Dialog open={creating} onOpenChange={setCreating} title="Create an API key">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate();
          }}
        >
          <Field label="Name">
            {(id) => (
              <input id={id} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
            )}
          </Field>
          <Field label="Role">
            {(id) => (
              <select id={id} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
                {ROLES.map((role) => (
                  <option key={role}>{role}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Expires in (e.g. 30d; empty = never)">
            {(id) => (
              <input
                id={id}
                value={form.expires_in}
                onChange={(e) => setForm({ ...form, expires_in: e.target.value })}
              />
            )}
          </Field>
          {create.isError && <ErrorState error={create.error} />}
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            Create
          </button>
        </form>
      </Dialog>
      <ShownOnce created={created} onClose={() => setCreated(null)} />
      <Dialog
        open={!!revoking}
        onOpenChange={(open) => !open && setRevoking(null)}
        title={`Revoke key ${revoking?.name ?? ''}?`}
        description="Clients and browser sessions using it stop working at once."
      >
        <Button
          variant="danger"
          disabled={revoke.isPending}
          onClick={() => revoking && revoke.mutate(revoking.id)}
        >
          Revoke
        </Button>
      </Dialog>
    </>
  );
}

function SessionsTab() {
  const client = useQueryClient();
  const sessions = usePaged<SessionView>('/v1/auth/sessions');
  const revoke = useMutation({
    mutationFn: (id: string) => send('DELETE', `/v1/auth/sessions/${id}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['/v1/auth/sessions'] }),
  });
  const columns: ColumnDef<SessionView, unknown>[] = [
    { id: 'subject', header: 'Subject', accessorFn: (s) => String(s.subject ?? '') },
    { id: 'role', header: 'Role', accessorFn: (s) => String(s.role ?? '') },
    { id: 'via', header: 'Via', accessorFn: (s) => String(s.via ?? '') },
    {
      id: 'created',
      header: 'Created',
      accessorFn: (s) => s.created_at ?? '',
      cell: ({ getValue }) => when(getValue() as string),
    },
    {
      id: 'seen',
      header: 'Last seen',
      accessorFn: (s) => s.last_seen_at ?? '',
      cell: ({ getValue }) => when(getValue() as string),
    },
    {
      id: 'expires',
      header: 'Expires',
      accessorFn: (s) => s.expires_at ?? '',
      cell: ({ getValue }) => when(getValue() as string),
    },
    {
      id: 'actions',
      header: 'Actions',
      enableSorting: false,
      // GET /v1/auth/sessions lists live sessions only: every row can be revoked.
      cell: ({ row }) => (
        <Button
          variant="danger"
          aria-label={`Revoke session ${row.original.id}`}
          onClick={() => revoke.mutate(row.original.id)}
        >
          Revoke
        </Button>
      ),
    },
  ];
  if (sessions.isPending) return <Loading />;
  if (sessions.isError)
    return isNotFound(sessions.error) ? (
      <p className="state empty">
        Browser sessions are not available on this control plane (GET /v1/auth/sessions answered 404).
      </p>
    ) : (
      <ErrorState error={sessions.error} what="sessions" />
    );
  return (
    <DataTable
      label="Sessions"
      rows={sessions.rows}
      columns={columns}
      rowKey={(s) => s.id}
      empty="No active session."
    />
  );
}

function TenantsTab() {
  const client = useQueryClient();
  const tenants = usePaged<TenantView>('/v1/tenants');
  const [id, setId] = useState('');
  const create = useMutation({
    mutationFn: () => send<TenantView>('POST', '/v1/tenants', { id }),
    onSuccess: () => {
      setId('');
      void client.invalidateQueries({ queryKey: ['/v1/tenants'] });
    },
  });
  const columns: ColumnDef<TenantView, unknown>[] = [
    { id: 'id', header: 'Tenant', accessorKey: 'id' },
    { id: 'name', header: 'Name', accessorKey: 'name' },
    {
      id: 'created',
      header: 'Created',
      accessorKey: 'created_at',
      cell: ({ getValue }) => when(getValue() as string),
    },
  ];
  return (
    <>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Field label="New tenant id">
          {(fid) => <input id={fid} value={id} onChange={(e) => setId(e.target.value)} />}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={!id || create.isPending}>
          Create tenant
        </button>
      </form>
      {create.isError && <ErrorState error={create.error} />}
      {tenants.isPending ? (
        <Loading />
      ) : tenants.isError ? (
        <ErrorState error={tenants.error} what="tenants" />
      ) : (
        <DataTable
          label="Tenants"
          rows={tenants.rows}
          columns={columns}
          rowKey={(t) => t.id}
          empty="No tenant."
        />
      )}
    </>
  );
}

export function KeysScreen() {
  const { can } = useAuth();
  const search = routeApi.useSearch();
  const navigate = useNavigate({ from: '/keys' });
  if (!can('keys:manage')) {
    return (
      <>
        <h1>Keys and sessions</h1>
        <p className="state empty">Managing keys and sessions needs the admin role.</p>
      </>
    );
  }
  const tab = search.tab ?? 'keys';
  return (
    <>
      <h1>Keys and sessions</h1>
      <Tabs.Root
        value={tab}
        onValueChange={(value) => void navigate({ search: { tab: value === 'keys' ? undefined : value } })}
      >
        <Tabs.List className="tabs" aria-label="Identity">
          <Tabs.Trigger value="keys">API keys</Tabs.Trigger>
          {can('sessions:manage') && <Tabs.Trigger value="sessions">Sessions</Tabs.Trigger>}
          {can('tenants:manage') && <Tabs.Trigger value="tenants">Tenants</Tabs.Trigger>}
        </Tabs.List>
        <Tabs.Content value="keys">{tab === 'keys' && <KeysTab />}</Tabs.Content>
        {can('sessions:manage') && (
          <Tabs.Content value="sessions">{tab === 'sessions' && <SessionsTab />}</Tabs.Content>
        )}
        {can('tenants:manage') && (
          <Tabs.Content value="tenants">{tab === 'tenants' && <TenantsTab />}</Tabs.Content>
        )}
      </Tabs.Root>
    </>
  );
}
