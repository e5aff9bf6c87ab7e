/** What `teleport-mattermost configure` prints: every key of the official file, commented. */
export const EXAMPLE_CONFIG = `# teleport-mattermost configuration (TOML)
# Save it with: teleport-mattermost configure | sudo tee /etc/teleport-mattermost.toml

[teleport]
# Where the plugin reaches Teleport: the Auth Service (port 3025) or the Proxy
# Service (443 or 3080). Teleport Cloud: "your-account.teleport.sh:443".
addr = "example.com:3025"

# How the plugin signs in to Teleport.
#
# An identity file (tctl auth sign --format=file, or a tbot identity output):
# identity = "/var/lib/teleport/plugins/mattermost/auth_id"    # identity file path
# refresh_identity = true                                      # re-read it periodically (tbot renews it)
#
# Or a TLS key pair and CA bundle (tctl auth sign --format=tls):
# client_key = "/var/lib/teleport/plugins/mattermost/auth.key" # private key
# client_crt = "/var/lib/teleport/plugins/mattermost/auth.crt" # certificate
# root_cas = "/var/lib/teleport/plugins/mattermost/auth.cas"   # Teleport CA certificates

[mattermost]
url = "https://mattermost.example.com" # your Mattermost server: scheme and host
token = "api-token"                    # the bot account's access token, or a file path such as
                                       # "/var/lib/teleport/plugins/mattermost/mattermost_token"

# Who hears about every request (optional). Each entry is either
# - "team/channel": a channel, by the team and channel names in its URL
#   (invite the bot there with /invite @<bot name>), or
# - an email address: that Mattermost user gets a direct message from the bot.
# When set, this list replaces [role_to_recipients]. Suggested reviewers (emails)
# are always added.
# recipients = [
#   "my-team-name/channel-name",
#   "first.last@example.com"
# ]

[log]
output = "stderr" # "stdout", "stderr" or a file path such as "/var/lib/teleport/mattermost.log"
severity = "INFO" # "DEBUG", "INFO", "WARN" or "ERROR"
`;
