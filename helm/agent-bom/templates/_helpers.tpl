{{/* Names and labels. */}}
{{- define "agent-bom.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agent-bom.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agent-bom.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "agent-bom.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agent-bom
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "agent-bom.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agent-bom.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "agent-bom.componentLabels" -}}
{{ include "agent-bom.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "agent-bom.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agent-bom.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "agent-bom.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The https base URL of the control plane as seen from inside the cluster (gateway, scan job, proxy). */}}
{{- define "agent-bom.publicUrl" -}}
{{- if and .Values.ingress.enabled .Values.ingress.tlsSecret -}}
{{- printf "https://%s" .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* Pod security: non-root, seccomp RuntimeDefault. */}}
{{- define "agent-bom.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security: read-only root, no privilege escalation, every capability dropped. */}}
{{- define "agent-bom.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* More than one pod of a component can run: (dict "replicas" n "autoscaling" {...}). */}}
{{- define "agent-bom.multi" -}}
{{- if or (gt (int .replicas) 1) (and .autoscaling.enabled (gt (int .autoscaling.maxReplicas) 1)) -}}true{{- end -}}
{{- end -}}

{{/* Checks that values.schema.json cannot express on its own; they stop the render with a clear message. */}}
{{- define "agent-bom.validate" -}}
{{- if or .Values.controlPlane.enabled .Values.migrations.enabled .Values.scans.workers.enabled -}}
{{- if not .Values.database.existingSecret -}}
{{- fail "database.existingSecret is required: the name of an existing Secret holding DATABASE_URL (external PostgreSQL 14+; the chart runs no database)" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.controlPlane.enabled (include "agent-bom.multi" (dict "replicas" .Values.controlPlane.replicas "autoscaling" .Values.controlPlane.autoscaling)) (not .Values.signingKey.existingSecret) -}}
{{- fail "signingKey.existingSecret is required when more than one control-plane pod can run (controlPlane.replicas > 1 or autoscaling): every replica must sign with one shared Ed25519 key (docs/configuration.md)" -}}
{{- end -}}
{{- if .Values.scans.workers.enabled -}}
{{- if not .Values.signingKey.existingSecret -}}
{{- fail "signingKey.existingSecret is required with scans.workers.enabled: workers write the audit ledger with the control plane's key" -}}
{{- end -}}
{{- end -}}
{{- if .Values.gateway.enabled -}}
{{- $multi := include "agent-bom.multi" (dict "replicas" .Values.gateway.replicas "autoscaling" .Values.gateway.autoscaling) -}}
{{- if and $multi (eq .Values.gateway.rateLimit.backend "memory") -}}
{{- fail "gateway.rateLimit.backend memory cannot be used when more than one gateway pod can run: use postgres (or auto) so replicas share one limit" -}}
{{- end -}}
{{- if and $multi (not .Values.gateway.sessionSecret) -}}
{{- fail "gateway.sessionSecret is required when more than one gateway pod can run: replicas must share the session-id key (AGENT_BOM_GATEWAY_SESSION_SECRET)" -}}
{{- end -}}
{{- if and $multi .Values.gateway.stateDir.existingClaim -}}
{{- fail "gateway.stateDir.existingClaim cannot be used when more than one gateway pod can run: each gateway process needs a state dir and audit file of its own (leave it empty for an emptyDir per pod)" -}}
{{- end -}}
{{- if .Values.gateway.auditFile.enabled -}}
{{- $max := include "agent-bom.auditFileBytes" .Values.gateway.auditFile.maxSize | int64 -}}
{{- if or (lt $max 4096) (gt $max 1073741824) -}}
{{- fail (printf "gateway.auditFile.maxSize must be a size between 4KiB and 1GiB, e.g. 10MiB (got %q)" (toString .Values.gateway.auditFile.maxSize)) -}}
{{- end -}}
{{- $keep := .Values.gateway.auditFile.keep | int64 -}}
{{- if or (lt $keep 0) (gt $keep 100) -}}
{{- fail "gateway.auditFile.keep must be 0-100" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.gateway.auditFile.enabled (not .Values.gateway.stateDir.existingClaim) -}}
{{- $audit := mul (add1 (.Values.gateway.auditFile.keep | int64)) (include "agent-bom.auditFileBytes" .Values.gateway.auditFile.maxSize | int64) -}}
{{- if ge $audit (include "agent-bom.quantityBytes" .Values.gateway.stateDir.sizeLimit | int64) -}}
{{- fail (printf "gateway.stateDir.sizeLimit %s cannot hold the audit file: (auditFile.keep + 1) x auditFile.maxSize is %d bytes; raise the limit or lower keep or maxSize (a full emptyDir evicts the pod)" (toString .Values.gateway.stateDir.sizeLimit) $audit) -}}
{{- end -}}
{{- end -}}
{{- if and (eq (include "agent-bom.gatewayBackend" .) "postgres") (not .Values.database.existingSecret) -}}
{{- fail "database.existingSecret is required for the gateway's postgres rate-limit backend (shared limits)" -}}
{{- end -}}
{{- if .Values.gateway.controlPlane.enabled -}}
{{- if not .Values.gateway.controlPlane.tokenSecret -}}
{{- fail "gateway.controlPlane.tokenSecret is required with gateway.controlPlane.enabled: an existing Secret holding the gateway-role key(s)" -}}
{{- end -}}
{{- if not (include "agent-bom.gatewayControlPlaneUrl" .) -}}
{{- fail "gateway.controlPlane.url is required (https): the gateway reaches the control plane over https only; or enable ingress with ingress.tlsSecret" -}}
{{- end -}}
{{- else -}}
{{- if not .Values.gateway.upstreams -}}
{{- fail "the gateway has nothing to front: enable gateway.controlPlane or list gateway.upstreams" -}}
{{- end -}}
{{- if not .Values.gateway.bearerTokenSecret -}}
{{- fail "gateway.bearerTokenSecret is required without gateway.controlPlane: a gateway listening on the pod network needs incoming authentication" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .Values.scans.cronJob.enabled -}}
{{- if not .Values.scans.cronJob.pushApiKeySecret -}}
{{- fail "scans.cronJob.pushApiKeySecret is required: an existing Secret holding a fleet-push key" -}}
{{- end -}}
{{- if not (include "agent-bom.scanPushUrl" .) -}}
{{- fail "scans.cronJob.pushUrl is required (https), or enable ingress with ingress.tlsSecret" -}}
{{- end -}}
{{- end -}}
{{- if .Values.proxyExample.enabled -}}
{{- if not .Values.proxyExample.workload.image -}}
{{- fail "proxyExample.workload.image is required: the workload that runs the stdio MCP server through the proxy" -}}
{{- end -}}
{{- if not .Values.proxyExample.tokenSecret -}}
{{- fail "proxyExample.tokenSecret is required: an existing Secret holding a proxy-role key" -}}
{{- end -}}
{{- if not (include "agent-bom.proxyControlPlaneUrl" .) -}}
{{- fail "proxyExample.controlPlaneUrl is required (https), or enable ingress with ingress.tlsSecret" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agent-bom.gatewayBackend" -}}
{{- $multi := include "agent-bom.multi" (dict "replicas" .Values.gateway.replicas "autoscaling" .Values.gateway.autoscaling) -}}
{{- if or $multi (eq .Values.gateway.rateLimit.backend "postgres") -}}postgres{{- else -}}memory{{- end -}}
{{- end -}}

{{/* The gateway's data volume (state dir and audit file) is mounted when either is on; "true" or empty. */}}
{{- define "agent-bom.gatewayDataVolume" -}}
{{- if or .Values.gateway.stateDir.enabled .Values.gateway.auditFile.enabled -}}true{{- end -}}
{{- end -}}

{{/* An --audit-file-max-size in bytes, as the gateway reads it (10MiB, 512KiB, 4096; KB/MB/GB are binary too). */}}
{{- define "agent-bom.auditFileBytes" -}}
{{- $s := toString . | trim -}}
{{- $n := regexFind "^[0-9]+" $s -}}
{{- $unit := trimPrefix $n $s | trim | lower | replace "i" "" -}}
{{- $scale := get (dict "" 1 "b" 1 "kb" 1024 "mb" 1048576 "gb" 1073741824) $unit -}}
{{- mul ($n | int64) ($scale | int64) -}}
{{- end -}}

{{/* A Kubernetes quantity without decimals (128Mi, 1Gi, 500M) in bytes. */}}
{{- define "agent-bom.quantityBytes" -}}
{{- $s := toString . | trim -}}
{{- $n := regexFind "^[0-9]+" $s -}}
{{- $scale := get (dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000) (trimPrefix $n $s) -}}
{{- mul ($n | int64) ($scale | int64) -}}
{{- end -}}

{{- define "agent-bom.gatewayControlPlaneUrl" -}}
{{- default (include "agent-bom.publicUrl" .) .Values.gateway.controlPlane.url -}}
{{- end -}}

{{- define "agent-bom.scanPushUrl" -}}
{{- if .Values.scans.cronJob.pushUrl -}}
{{- .Values.scans.cronJob.pushUrl -}}
{{- else if include "agent-bom.publicUrl" . -}}
{{- printf "%s/v1/results/push" (include "agent-bom.publicUrl" .) -}}
{{- end -}}
{{- end -}}

{{- define "agent-bom.proxyControlPlaneUrl" -}}
{{- default (include "agent-bom.publicUrl" .) .Values.proxyExample.controlPlaneUrl -}}
{{- end -}}

{{/* Environment shared by every process that opens the database (api, workers, migrate). */}}
{{- define "agent-bom.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.key }}
- name: AGENT_BOM_DB_POOL_SIZE
  value: {{ .Values.database.poolSize | int | quote }}
- name: AGENT_BOM_DATA_DIR
  value: /var/lib/agent-bom
- name: LOG_LEVEL
  value: {{ .Values.controlPlane.logLevel | quote }}
{{- if .Values.signingKey.existingSecret }}
- name: AGENT_BOM_SIGNING_KEY_FILE
  value: /etc/agent-bom/signing/{{ .Values.signingKey.key }}
{{- end }}
{{- if .Values.signingKey.previousKeysSecret }}
- name: AGENT_BOM_SIGNING_PREVIOUS_KEYS_FILE
  value: /etc/agent-bom/signing-previous/{{ .Values.signingKey.previousKeysKey }}
{{- end }}
{{- end -}}

{{- define "agent-bom.signingVolumeMounts" -}}
{{- if .Values.signingKey.existingSecret }}
- name: signing-key
  mountPath: /etc/agent-bom/signing
  readOnly: true
{{- end }}
{{- if .Values.signingKey.previousKeysSecret }}
- name: signing-previous
  mountPath: /etc/agent-bom/signing-previous
  readOnly: true
{{- end }}
{{- end -}}

{{- define "agent-bom.signingVolumes" -}}
{{- if .Values.signingKey.existingSecret }}
- name: signing-key
  secret:
    secretName: {{ .Values.signingKey.existingSecret }}
    defaultMode: 0400
    items:
      - key: {{ .Values.signingKey.key }}
        path: {{ .Values.signingKey.key }}
{{- end }}
{{- if .Values.signingKey.previousKeysSecret }}
- name: signing-previous
  secret:
    secretName: {{ .Values.signingKey.previousKeysSecret }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{/* Extra plain env: (the map of name → value). */}}
{{- define "agent-bom.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "agent-bom.podCommon" -}}
automountServiceAccountToken: false
serviceAccountName: {{ include "agent-bom.serviceAccountName" . }}
securityContext:
  {{- include "agent-bom.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}
