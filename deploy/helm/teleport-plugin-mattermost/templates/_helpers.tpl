{{/* Names and labels shared by the chart's manifests. */}}
{{- define "mattermost.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mattermost.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "mattermost.labels" -}}
app.kubernetes.io/name: {{ include "mattermost.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "mattermost.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mattermost.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The identity file inside the mounted secret: tbot writes "identity". */}}
{{- define "mattermost.identitySecretPath" -}}
{{- if .Values.tbot.enabled }}identity{{ else }}{{ .Values.teleport.identitySecretPath }}{{ end }}
{{- end }}

{{- define "mattermost.identitySecretName" -}}
{{- if .Values.tbot.enabled }}{{ .Values.tbot.nameOverride | default "tbot" }}-out{{ else }}{{ .Values.teleport.identitySecretName }}{{ end }}
{{- end }}
