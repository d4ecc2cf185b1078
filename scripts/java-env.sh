# Sourced by ./fast-litellm, ./run-tests and .ci/run: finds a JDK 21+ and exports JAVA_HOME.
# Order: JAVA_HOME when it is 21+, else the newest JDK under /usr/lib/jvm (or $FAST_LITELLM_JVM_DIR),
# else `java` on PATH when it is 21+. Prints what to install when none is found.

fl_java_major() { # $1 = path to a java binary; prints its major version or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

fl_find_jdk() {
  local candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(fl_java_major "$JAVA_HOME/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then printf '%s\n' "$JAVA_HOME"; return 0; fi
  fi
  for candidate in "${FAST_LITELLM_JVM_DIR:-/usr/lib/jvm}"/*; do
    [ -x "$candidate/bin/javac" ] || continue
    [ -L "$candidate" ] && continue
    major=$(fl_java_major "$candidate/bin/java")
    [ -n "$major" ] || continue
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then best="$candidate"; best_major="$major"; fi
  done
  if [ -n "$best" ]; then printf '%s\n' "$best"; return 0; fi
  if command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(fl_java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then printf '%s\n' "$candidate"; return 0; fi
  fi
  return 1
}

fl_use_jdk() {
  local jdk
  if ! jdk=$(fl_find_jdk); then
    echo "fast-litellm needs a JDK 21 or newer and found none (JAVA_HOME, /usr/lib/jvm, PATH)." >&2
    echo "Install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME="$jdk"
  export PATH="$JAVA_HOME/bin:$PATH"
  # Maven's own Guava warns about sun.misc.Unsafe on JDK 24+; silence that noise, nothing else.
  if [ "$(fl_java_major "$JAVA_HOME/bin/java")" -ge 24 ]; then
    case "${MAVEN_OPTS:-}" in *sun-misc-unsafe*) ;; *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;; esac
  fi
}
