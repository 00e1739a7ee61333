// Placeholder: the web/dashboard build replaces wwwroot/.
