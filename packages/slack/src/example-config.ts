/** What `teleport-slack configure` prints: every key of the official file, commented. */
export const EXAMPLE_CONFIG = `# teleport-slack configuration (TOML)
# Save it with: teleport-slack configure | sudo tee /etc/teleport-slack.toml

[teleport]
# Where the plugin reaches Teleport: the Auth Service (port 3025) or the Proxy
# Service (443 or 3080). Teleport Cloud: "your-account.teleport.sh:443".
# addr = "example.com:3025"

# How the plugin signs in to Teleport.
#
# An identity file (tctl auth sign --format=file, or a tbot identity output):
# identity = "/var/lib/teleport/plugins/slack/auth_id"    # identity file path
# refresh_identity = true                                 # re-read it periodically (tbot renews it)
#
# Or a TLS key pair and CA bundle (tctl auth sign --format=tls):
# client_key = "/var/lib/teleport/plugins/slack/auth.key" # private key
# client_crt = "/var/lib/teleport/plugins/slack/auth.crt" # certificate
# root_cas = "/var/lib/teleport/plugins/slack/auth.cas"   # Teleport CA certificates

[slack]
# The app's Bot User OAuth Token ("OAuth & Permissions" page, starts with xoxb-).
# An absolute path instead reads the token from that file, e.g.
# token = "/var/lib/teleport/plugins/slack/slack-token"
token = "xoxb-11xx"

[role_to_recipients]
# Who hears about a request, by requested role. A value is one recipient or a list.
# A recipient is a Slack channel (name or ID; invite the app with /invite @teleport)
# or a user's email address (they get a direct message from the app).
# Suggested reviewers (emails) are added automatically, and the requester is sent a copy.
# The "*" entry is required: it covers every role without an entry of its own.
#
# "dev" = "devs-slack-channel"
# "*" = ["admin@email.com", "admin-slack-channel"]

[log]
output = "stderr" # "stdout", "stderr" or a file path such as "/var/lib/teleport/slack.log"
severity = "INFO" # "DEBUG", "INFO", "WARN" or "ERROR"
`;
