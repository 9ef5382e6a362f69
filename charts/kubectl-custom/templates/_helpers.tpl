{{/*
Hand-written helpers. The objects themselves are generated from
manifests/base by scripts/build-chart.ts (npm run build:chart); the TLS
Secret, the namespace check and the test hook are written here.
*/}}

{{/*
Labels every top-level object carries besides those of manifests/base (Helm's
own). Selectors and the pod template keep exactly the labels of
manifests/base, so a Deployment installed with kustomize can be taken over.
*/}}
{{- define "kubectl-custom.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* The backend's image: repository and tag, the tag defaulting to the chart's appVersion. */}}
{{- define "kubectl-custom.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The Secret the backend serves with (tls.crt, tls.key). */}}
{{- define "kubectl-custom.servingSecretName" -}}
{{- if eq .Values.tls.mode "existingSecret" -}}
{{- required "tls.existingSecret.name is required with tls.mode=existingSecret: the kubernetes.io/tls Secret in custom-system the backend serves with" .Values.tls.existingSecret.name -}}
{{- else -}}
kubectl-custom-backend-serving-cert
{{- end -}}
{{- end -}}

{{/*
tls.mode=helm: the CA and serving certificate, made once per render and kept
in .Values._servingCert so that the Secret, the APIService and the webhook
agree. An upgrade reuses the Secret the last release made (lookup) until 30
days before its certificate ends, then makes a new CA and certificate; the
caBundle then holds both CAs, so the aggregator and the webhook client trust
the pods that still serve the old certificate until they read the new one.
(`helm template` and client-side dry runs cannot look up: they always show a
new certificate.)
*/}}
{{- define "kubectl-custom.servingCert" -}}
{{- if not (hasKey .Values "_servingCert") -}}
{{- $service := "kubectl-custom-backend.custom-system.svc" -}}
{{- $old := lookup "v1" "Secret" .Release.Namespace "kubectl-custom-backend-serving-cert" | default dict -}}
{{- $data := get $old "data" | default dict -}}
{{- $notAfter := dig "metadata" "annotations" "custom.example.com/not-after" "" $old -}}
{{- $now := now | unixEpoch | atoi -}}
{{- $renewAt := sub (atoi (default "0" $notAfter)) (mul 30 86400) -}}
{{- if and (get $data "ca.crt") (get $data "tls.crt") (get $data "tls.key") (gt $renewAt $now) -}}
{{- $ca := get $data "ca.crt" | b64dec -}}
{{- $_ := set .Values "_servingCert" (dict "ca" $ca "caBundle" $ca "crt" (get $data "tls.crt" | b64dec) "key" (get $data "tls.key" | b64dec) "notAfter" $notAfter) -}}
{{- else -}}
{{- $days := int .Values.tls.helm.validityDays -}}
{{- $ca := genCAWithKey "kubectl-custom-backend-ca" $days (genPrivateKey "ecdsa") -}}
{{- $cert := genSignedCertWithKey $service nil (list $service (printf "%s.cluster.local" $service)) $days $ca (genPrivateKey "ecdsa") -}}
{{- $bundle := printf "%s%s" $ca.Cert (get $data "ca.crt" | default "" | b64dec) -}}
{{- $_ := set .Values "_servingCert" (dict "ca" $ca.Cert "caBundle" $bundle "crt" $cert.Cert "key" $cert.Key "notAfter" (toString (add $now (mul $days 86400)))) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The APIService's and the webhook's caBundle (base64), or nothing when cert-manager injects it. */}}
{{- define "kubectl-custom.caBundle" -}}
{{- if eq .Values.tls.mode "helm" -}}
{{- include "kubectl-custom.servingCert" . -}}
{{- .Values._servingCert.caBundle | b64enc -}}
{{- else if eq .Values.tls.mode "existingSecret" -}}
{{- required "tls.existingSecret.caBundle is required with tls.mode=existingSecret: the PEM CA certificate that signed the Secret's tls.crt" .Values.tls.existingSecret.caBundle | b64enc -}}
{{- end -}}
{{- end -}}

{{/*
Everything is in custom-system: the backend keeps its archive and its
cluster-wide GatePolicies and Freezes there, and its RBAC and admission
policies name its ServiceAccount there.
*/}}
{{- define "kubectl-custom.checkNamespace" -}}
{{- if ne .Release.Namespace "custom-system" -}}
{{- fail (printf "kubectl-custom is installed into the namespace custom-system (the backend keeps its archive there, and its RBAC and admission policies name it): use -n custom-system --create-namespace, not -n %s" .Release.Namespace) -}}
{{- end -}}
{{- end -}}
