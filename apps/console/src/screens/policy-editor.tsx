import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import { diffLines } from 'diff';
import { useEffect, useMemo, useState } from 'react';
import { ErrorState, Loading, Section, when } from '../components/states';
import { Badge, Button, Field } from '../components/ui';
import { ApiError, api, qs, send, type Page } from '../lib/api';
import { useAuth } from '../lib/auth';
import { checkPolicyText, type Problem } from '../lib/policy-schema';
import type { PolicyEvaluation, PolicySummaryView, PolicyView } from '../lib/types';

const TEMPLATE = JSON.stringify(
  {
    version: 1,
    default_effect: 'allow',
    rules: [{ id: 'no-shell', effect: 'deny', tools: ['run_shell', 'shell_*'] }],
  },
  null,
  2,
);
const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The server's refusal of a save, as inline problems (libs/policy compile details or the message). */
function serverProblems(error: unknown): Problem[] {
  if (!(error instanceof ApiError)) return [];
  if (Array.isArray(error.details)) {
    return (error.details as { where?: string; field?: string; problems?: string[] }[]).flatMap((detail) =>
      (detail.problems ?? [error.message]).map((message) => ({
        where: detail.where ?? detail.field ?? 'policy',
        message,
      })),
    );
  }
  return [{ where: error.code, message: error.message }];
}

function Problems({ problems, label }: { problems: Problem[]; label: string }) {
  if (!problems.length) return null;
  return (
    <div role="alert">
      <ul className="problems" aria-label={label}>
        {problems.map((problem, index) => (
          <li key={index}>
            <code>{problem.where}</code> {problem.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

interface Draft {
  name: string;
  description: string;
  enabled: boolean;
  text: string;
}

function Editor({
  draft,
  onChange,
  readOnly,
}: {
  draft: Draft;
  onChange(draft: Draft): void;
  readOnly: boolean;
}) {
  const check = useMemo(() => checkPolicyText(draft.text), [draft.text]);
  return (
    <div className="editor">
      <div className="filters">
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              value={draft.name}
              readOnly={readOnly}
              onChange={(e) => onChange({ ...draft, name: e.target.value })}
            />
          )}
        </Field>
        <Field label="Description">
          {(id) => (
            <input
              id={id}
              value={draft.description}
              size={48}
              readOnly={readOnly}
              onChange={(e) => onChange({ ...draft, description: e.target.value })}
            />
          )}
        </Field>
      </div>
      <Field label="Policy document (JSON, libs/policy schema)">
        {(id) => (
          <textarea
            id={id}
            className="code"
            rows={18}
            spellCheck={false}
            readOnly={readOnly}
            aria-invalid={check.problems.length > 0}
            value={draft.text}
            onChange={(e) => onChange({ ...draft, text: e.target.value })}
          />
        )}
      </Field>
      {check.problems.length ? (
        <Problems problems={check.problems} label="Schema problems" />
      ) : (
        <p className="ok small" data-testid="schema-ok">
          Valid against the policy schema.
        </p>
      )}
    </div>
  );
}

export function NewPolicyScreen() {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [draft, setDraft] = useState<Draft>({ name: '', description: '', enabled: false, text: TEMPLATE });
  const create = useMutation({
    mutationFn: () =>
      send<PolicyView>('POST', '/v1/gateway/policies', {
        name: draft.name,
        description: draft.description || undefined,
        enabled: draft.enabled,
        document: JSON.parse(draft.text),
      }),
    onSuccess: async (policy) => {
      await client.invalidateQueries({ queryKey: ['/v1/gateway/policies'] });
      await navigate({ to: '/policies/$id', params: { id: policy.id } });
    },
  });
  const valid = !checkPolicyText(draft.text).problems.length && draft.name.trim().length > 0;
  return (
    <>
      <p>
        <Link to="/policies">← Policies</Link>
      </p>
      <h1>New policy</h1>
      <Editor draft={draft} onChange={setDraft} readOnly={false} />
      <label className="check">
        <input
          type="checkbox"
          checked={draft.enabled}
          onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
        />{' '}
        Enabled (a disabled policy is a draft: versioned and dry-runnable, not in the bundle)
      </label>
      <Problems problems={serverProblems(create.error)} label="Server refused the policy" />
      <Button variant="primary" disabled={!valid || create.isPending} onClick={() => create.mutate()}>
        Create policy
      </Button>
      <DryRun draft={draft} />
    </>
  );
}

type Target = 'draft' | 'policy' | 'effective';

/**
 * A dry run of one call (`POST /v1/gateway/evaluate`) against what is in the editor (an unsaved `draft`: the
 * server checks it as a save would and writes nothing), the policy's latest saved version, or the tenant's
 * effective bundle. An editor that does not parse or fails the schema is not sent: its problems are listed here;
 * the server's refusal of a draft (libs/policy's compile problems) is listed the same way.
 */
function DryRun({
  draft,
  bindings,
  policyId,
}: {
  draft: Draft;
  bindings?: PolicyView['bindings'];
  policyId?: string;
}) {
  const [tool, setTool] = useState('run_shell');
  const [args, setArgs] = useState('{}');
  const [context, setContext] = useState('{"environment":"prod"}');
  const [target, setTarget] = useState<Target>('draft');
  const [blocked, setBlocked] = useState<Problem[]>([]);
  const run = useMutation({
    mutationFn: (document?: unknown) =>
      send<PolicyEvaluation>('POST', '/v1/gateway/evaluate', {
        tool,
        arguments: JSON.parse(args || '{}'),
        context: JSON.parse(context || '{}'),
        policy_id: target === 'policy' ? policyId : undefined,
        draft:
          target === 'draft'
            ? { name: draft.name.trim() || undefined, document, bindings: bindings ?? undefined }
            : undefined,
      }),
  });
  const evaluate = () => {
    if (target === 'draft') {
      const check = checkPolicyText(draft.text);
      setBlocked(check.problems);
      if (check.problems.length) {
        run.reset();
        return;
      }
      run.mutate(check.document);
    } else {
      setBlocked([]);
      run.mutate(undefined);
    }
  };
  const refused = run.error instanceof ApiError && run.error.status === 400 && target === 'draft';
  return (
    <Section title="Dry run">
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          evaluate();
        }}
      >
        <Field label="Tool">
          {(id) => <input id={id} value={tool} onChange={(e) => setTool(e.target.value)} />}
        </Field>
        <Field label="Arguments (JSON)">
          {(id) => <input id={id} value={args} size={30} onChange={(e) => setArgs(e.target.value)} />}
        </Field>
        <Field label="Context (JSON: agent, client, environment, upstream)">
          {(id) => <input id={id} value={context} size={30} onChange={(e) => setContext(e.target.value)} />}
        </Field>
        <Field label="Against">
          {(id) => (
            <select
              id={id}
              value={target}
              onChange={(e) => {
                setTarget(e.target.value as Target);
                setBlocked([]);
                run.reset();
              }}
            >
              <option value="draft">the draft in the editor (unsaved)</option>
              {policyId && <option value="policy">this policy (latest saved version)</option>}
              <option value="effective">the tenant&apos;s effective bundle</option>
            </select>
          )}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={run.isPending}>
          Evaluate
        </button>
      </form>
      <Problems problems={blocked} label="The draft cannot be dry-run" />
      {refused ? (
        <Problems problems={serverProblems(run.error)} label="Server refused the draft" />
      ) : (
        run.isError && <ErrorState error={run.error} what="the dry run" />
      )}
      {run.data && (
        <div className="decision" data-testid="dry-run-result">
          <p>
            <Badge tone={run.data.effect === 'deny' ? 'bad' : run.data.effect === 'warn' ? 'warn' : 'ok'}>
              {run.data.effect}
            </Badge>{' '}
            {run.data.reason}
          </p>
          <ol className="small">
            {run.data.path.map((step, index) => (
              <li key={index}>{step}</li>
            ))}
          </ol>
        </div>
      )}
    </Section>
  );
}

function Diff({ before, after }: { before: string; after: string }) {
  const parts = diffLines(before, after);
  return (
    <pre className="diff" aria-label="Changes between versions">
      {parts.map((part, index) => (
        <span key={index} className={part.added ? 'added' : part.removed ? 'removed' : undefined}>
          {part.value
            .replace(/\n$/, '')
            .split('\n')
            .map((line) => `${part.added ? '+ ' : part.removed ? '- ' : '  '}${line}`)
            .join('\n') + '\n'}
        </span>
      ))}
    </pre>
  );
}

const docOf = (p: PolicyView) =>
  pretty({
    name: p.name,
    description: p.description,
    enabled: p.enabled,
    bindings: p.bindings,
    document: p.document,
  });

function History({ policy }: { policy: PolicyView }) {
  const versions = useQuery({
    queryKey: ['policy-versions', policy.id, policy.version],
    queryFn: () =>
      api<Page<PolicySummaryView>>(`/v1/gateway/policies/${policy.id}/versions${qs({ limit: 200 })}`),
  });
  const [selected, setSelected] = useState<number | null>(null);
  const pair = useQuery({
    queryKey: ['policy-diff', policy.id, selected],
    enabled: selected !== null,
    queryFn: async () => {
      const after = await api<PolicyView>(`/v1/gateway/policies/${policy.id}${qs({ version: selected! })}`);
      const before =
        selected! > 1
          ? await api<PolicyView>(`/v1/gateway/policies/${policy.id}${qs({ version: selected! - 1 })}`)
          : null;
      return { before: before ? docOf(before) : '', after: docOf(after) };
    },
  });
  return (
    <Section title="Version history">
      {versions.isPending ? (
        <Loading />
      ) : versions.isError ? (
        <ErrorState error={versions.error} what="versions" />
      ) : (
        <ul className="versions">
          {versions.data.items.map((v) => (
            <li key={v.version}>
              <button
                type="button"
                className="link"
                aria-pressed={selected === v.version}
                onClick={() => setSelected(v.version)}
              >
                v{v.version}
              </button>{' '}
              {when(v.updated_at)} by {v.updated_by} · {v.enabled ? 'enabled' : 'disabled'} · {v.rule_count}{' '}
              rule(s)
              {v.deleted && <Badge tone="bad">deleted</Badge>}
            </li>
          ))}
        </ul>
      )}
      {selected !== null &&
        (pair.isPending ? (
          <Loading />
        ) : pair.isError ? (
          <ErrorState error={pair.error} what="the diff" />
        ) : (
          <Diff before={pair.data.before} after={pair.data.after} />
        ))}
    </Section>
  );
}

export function PolicyScreen() {
  const { id } = getRouteApi('/policies/$id').useParams();
  const { can } = useAuth();
  const client = useQueryClient();
  const policy = useQuery({
    queryKey: ['policy', id],
    queryFn: () => api<PolicyView>(`/v1/gateway/policies/${encodeURIComponent(id)}`),
  });
  const [draft, setDraft] = useState<Draft | null>(null);
  useEffect(() => {
    if (policy.data)
      setDraft({
        name: policy.data.name,
        description: policy.data.description ?? '',
        enabled: policy.data.enabled,
        text: pretty(policy.data.document),
      });
  }, [policy.data]);
  const save = useMutation({
    mutationFn: (next: Draft) =>
      send<PolicyView>('PUT', `/v1/gateway/policies/${encodeURIComponent(id)}`, {
        name: next.name,
        description: next.description || undefined,
        enabled: next.enabled,
        bindings: policy.data?.bindings ?? undefined,
        document: JSON.parse(next.text),
        expected_version: policy.data?.version,
      }),
    onSuccess: async (saved) => {
      client.setQueryData(['policy', id], saved);
      await client.invalidateQueries({ queryKey: ['/v1/gateway/policies'] });
    },
  });
  if (policy.isPending || !draft)
    return policy.isError ? <ErrorState error={policy.error} what="this policy" /> : <Loading />;
  const p = policy.data!;
  const writable = can('policy:write');
  const valid = !checkPolicyText(draft.text).problems.length;
  return (
    <>
      <p>
        <Link to="/policies">← Policies</Link>
      </p>
      <h1>
        {p.name} <Badge tone={p.enabled ? 'ok' : 'neutral'}>{p.enabled ? 'enabled' : 'disabled'}</Badge>{' '}
        <span className="muted" data-testid="policy-version">
          version {p.version}
        </span>
      </h1>
      <Section
        title="Editor"
        actions={
          writable && (
            <>
              <Button
                variant="primary"
                disabled={!valid || save.isPending}
                onClick={() => save.mutate(draft)}
              >
                Save new version
              </Button>
              <Button
                disabled={save.isPending}
                onClick={() => save.mutate({ ...draft, text: pretty(p.document), enabled: !p.enabled })}
              >
                {p.enabled ? 'Disable' : 'Enable'}
              </Button>
            </>
          )
        }
      >
        <Editor draft={draft} onChange={setDraft} readOnly={!writable} />
        <Problems problems={serverProblems(save.error)} label="Server refused the policy" />
        {save.isSuccess && (
          <p className="ok small" role="status">
            Saved as version {save.data.version} (bundle {save.data.bundle_version}).
          </p>
        )}
      </Section>
      <DryRun draft={draft} bindings={p.bindings} policyId={p.id} />
      <History policy={p} />
    </>
  );
}
