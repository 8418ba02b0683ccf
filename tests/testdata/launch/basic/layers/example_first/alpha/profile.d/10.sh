export FROM_PROFILE=alpha
export PROFILE_ORDER="${PROFILE_ORDER}alpha,"
