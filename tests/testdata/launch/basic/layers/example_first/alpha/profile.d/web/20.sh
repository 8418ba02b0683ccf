export PROFILE_ORDER="${PROFILE_ORDER}alpha-web,"
