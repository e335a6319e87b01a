
# Cloudron (appended by the package): Rails' cache in the platform's Redis,
# logs to stdout, TLS ends at the platform's proxy.
Rails.application.configure do
  config.cache_store = :redis_cache_store, { url: ENV.fetch("REDIS_URL") }
  config.logger = ActiveSupport::Logger.new($stdout)
  config.force_ssl = false
  config.assume_ssl = true if config.respond_to?(:assume_ssl=)
end
