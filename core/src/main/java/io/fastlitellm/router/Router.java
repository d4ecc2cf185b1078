package io.fastlitellm.router;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * LiteLLM's router (model resolution, strategies, pre-call checks, cooldowns, retries and
 * fallbacks) with selection cost independent of the number of deployments.
 *
 * <p>Use: {@link #builder(List, RouterSettings)} ... {@code build()}; then either
 * {@link #route(String, RouteRequest)} for a one-shot choice (and {@link #recordStart},
 * {@link #recordSuccess}, {@link #recordFailure} to report), or {@link #begin(String, RouteRequest)}
 * for a {@link RoutingSession} that drives retries, waits and fallbacks step by step without
 * blocking (for an asynchronous server).
 *
 * <p>Pipeline, as LiteLLM's {@code get_available_deployment}: resolve the name (deployment id, model
 * group, {@code model_group_alias}, wildcard groups such as {@code openai/*} (most literal characters
 * first), the {@code "*"} catch-all); tag filter when enabled; then per {@code order} tier, lowest
 * first: drop deployments in cooldown, run the pre-call checks when {@code enable_pre_call_checks}
 * is on (context window: prompt tokens against {@code max_input_tokens} from the deployment or
 * {@link ModelCatalog}; rpm/tpm headroom from the {@link HeadroomCheck}, else the router's own
 * counters), then the strategy.
 *
 * <p>Where this differs from LiteLLM, deliberately:
 * <ul>
 * <li>Each strategy keeps an index per tier, updated when a report changes a deployment's state,
 * instead of scanning every deployment per request: a weight tree for simple-shuffle, a minimum tree
 * for the others. Per-request checks (context window, rpm/tpm headroom for this prompt) are applied
 * to the index's candidate; only when it fails is the tier scanned exactly.</li>
 * <li>simple-shuffle takes its mode (weight, rpm, tpm, uniform) from the first deployment of the tier
 * as configured, not from the first healthy one, so the index need not change with health.</li>
 * <li>With {@code lowest_latency_buffer}, the choice among deployments within the buffer is uniform
 * when one of 8 uniform draws lands within it, else a random descent of the tree (every qualifying
 * deployment possible, not exactly uniform).</li>
 * <li>When every deployment of the lowest order is over its rpm/tpm limit, the next order is tried
 * (LiteLLM filters on order before the strategy's limits and then fails).</li>
 * <li>A deployment that is the only one of its group is never cooled down: cooling it would only
 * turn its errors into 429s.</li>
 * </ul>
 *
 * <p>Thread-safe. Invariants: deployment list, groups and tiers are fixed at construction (tag
 * pools are added lazily, registered before they are first filled); all mutable state is in the
 * {@link DeploymentStateStore}, and each tier's index is recomputed from it under the tier's lock
 * after every change, so an index is never more than one in-flight update behind the store.
 * Cooldown expiry is driven by selection: a volatile deadline is checked per request, and the first
 * thread past it re-enables expired deployments under {@code expiryLock} (never held while waiting
 * for anything but tier locks).
 */
public final class Router {
    private static final long MINUTE_NANOS = 60_000_000_000L;
    private static final int MAX_RESOLVE_CACHE = 10_000;
    private static final int MAX_TAG_POOLS = 1_024;
    /** LiteLLM records a timeout as a 1000 s latency sample. */
    private static final long TIMEOUT_PENALTY_NANOS = 1_000_000_000_000L;

    private final RouterSettings settings;
    private final Deployment[] deployments;
    private final DeploymentStateStore store;
    private final LongSupplier nanoTime;
    private final RandomGenerator random;
    private final HeadroomCheck headroom;
    private final long[] maxInputTokens;
    private final long[] costKeys;
    private final Group[] groupOf;
    private final Map<String, Integer> byId;
    private final Map<String, Group> groups;
    private final List<Group> wildcards;
    private final Group catchAll;
    private final ConcurrentHashMap<String, Object> resolveCache = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<Membership[]> memberships;

    private final ReentrantLock expiryLock = new ReentrantLock();
    private final PriorityQueue<long[]> expiries = new PriorityQueue<>(Comparator.comparingLong(e -> e[0]));
    private volatile boolean expiryPending;
    private volatile long nextExpiry;

    private record Membership(Tier tier, int pos) {
    }

    /** A model group: its deployments, the pool of all of them and the tag pools made on demand. */
    static final class Group {
        final String name;
        final int[] members;
        Pool all;
        Pool untagged;
        final ConcurrentHashMap<String, Pool> byTags = new ConcurrentHashMap<>();
        final String prefix;
        final String suffix;

        Group(String name, int[] members) {
            this.name = name;
            this.members = members;
            int star = name.indexOf('*');
            this.prefix = star < 0 ? name : name.substring(0, star);
            this.suffix = star < 0 ? "" : name.substring(name.lastIndexOf('*') + 1);
        }

        boolean matches(String model) {
            return model.length() >= prefix.length() + suffix.length() && model.startsWith(prefix) && model.endsWith(suffix);
        }
    }

    private Router(Builder b) {
        this.settings = b.settings;
        this.nanoTime = b.nanoTime;
        this.random = b.random;
        this.headroom = b.headroom;
        List<String> errors = new ArrayList<>();
        int n = b.deployments.size();
        if (n >= MinTree.MAX_SIZE) errors.add("deployments: " + n + " (expected: < " + MinTree.MAX_SIZE + ")");
        this.deployments = new Deployment[n];
        this.byId = new HashMap<>(n * 2);
        Map<String, List<Integer>> members = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Deployment d = b.deployments.get(i);
            String path = "deployments[" + i + "]";
            if (d == null) {
                errors.add(path + ": null (expected: a deployment)");
                continue;
            }
            errors.addAll(d.validate(path));
            if (d.id() == null) d = d.withId(d.modelName() + "-" + i);
            Integer dup = byId.putIfAbsent(d.id(), i);
            if (dup != null) errors.add(path + ".id: \"" + d.id() + "\" (expected: unique; deployments[" + dup + "] has it too)");
            deployments[i] = d;
            if (d.modelName() != null) members.computeIfAbsent(d.modelName(), k -> new ArrayList<>()).add(i);
        }
        if (!errors.isEmpty()) throw new IllegalArgumentException(String.join("; ", errors));
        this.store = b.store.apply(Collections.unmodifiableList(Arrays.asList(deployments)));
        if (store == null) throw new IllegalArgumentException("stateStore: the factory returned null (expected: a store)");
        this.maxInputTokens = new long[n];
        this.costKeys = new long[n];
        for (int i = 0; i < n; i++) {
            maxInputTokens[i] = deployments[i].effectiveMaxInputTokens();
            double c = deployments[i].effectiveCostPerToken();
            // femto-dollars per token; unknown prices sort after every known one
            costKeys[i] = Double.isNaN(c) ? MinTree.MAX_KEY : (long) Math.min(MinTree.MAX_KEY - 1, Math.round(c * 1e15));
        }
        this.memberships = new AtomicReferenceArray<>(n);
        for (int i = 0; i < n; i++) memberships.set(i, new Membership[0]);
        this.groupOf = new Group[n];
        this.groups = new HashMap<>();
        List<Group> wild = new ArrayList<>();
        Group star = null;
        for (Map.Entry<String, List<Integer>> e : members.entrySet()) {
            Group g = new Group(e.getKey(), e.getValue().stream().mapToInt(Integer::intValue).toArray());
            for (int d : g.members) groupOf[d] = g;
            groups.put(g.name, g);
            if (g.name.equals("*")) star = g;
            else if (g.name.indexOf('*') >= 0) wild.add(g);
        }
        wild.sort(Comparator.comparingInt((Group g) -> -(g.prefix.length() + g.suffix.length())));
        this.wildcards = List.copyOf(wild);
        this.catchAll = star;
        long now = nanoTime.getAsLong();
        for (Group g : groups.values()) {
            g.all = newPool(g.name, g.members);
            int[] defaults = settings.enableTagFiltering()
                    ? Arrays.stream(g.members).filter(d -> deployments[d].tags().contains("default")).toArray()
                    : new int[0];
            g.untagged = defaults.length == 0 ? g.all : newPool(g.name, defaults);
        }
        for (int i = 0; i < n; i++) {
            long until = store.cooldownUntil(i);
            if (until != DeploymentStateStore.NO_COOLDOWN && until - now > 0) scheduleExpiry(i, until);
        }
    }

    private Pool newPool(String group, int[] members) {
        Pool p = new Pool(this, group, members, true);
        for (Tier t : p.tiers) {
            for (int pos = 0; pos < t.members.length; pos++) {
                int d = t.members[pos];
                Membership m = new Membership(t, pos);
                while (true) {
                    Membership[] cur = memberships.get(d);
                    Membership[] next = Arrays.copyOf(cur, cur.length + 1);
                    next[cur.length] = m;
                    if (memberships.compareAndSet(d, cur, next)) break;
                }
            }
            t.rebuild();
        }
        return p;
    }

    /** Starts a builder over these deployments (LiteLLM's {@code model_list}, in order). */
    public static Builder builder(List<Deployment> deployments, RouterSettings settings) {
        return new Builder(deployments, settings);
    }

    /** Construction options: clock, random source, state store and headroom check are injectable. */
    public static final class Builder {
        private final List<Deployment> deployments;
        private final RouterSettings settings;
        private LongSupplier nanoTime = System::nanoTime;
        private RandomGenerator random;
        private Function<List<Deployment>, DeploymentStateStore> store = ds -> new InMemoryDeploymentStateStore(ds.size());
        private HeadroomCheck headroom;

        private Builder(List<Deployment> deployments, RouterSettings settings) {
            if (deployments == null) throw new IllegalArgumentException("deployments: null (expected: a list, possibly empty)");
            if (settings == null) throw new IllegalArgumentException("settings: null (expected: router settings)");
            this.deployments = new ArrayList<>(deployments);
            this.settings = settings;
        }

        /** The clock for cooldowns, minutes and latency (default {@link System#nanoTime}). */
        public Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = java.util.Objects.requireNonNull(nanoTime, "nanoTime");
            return this;
        }

        /**
         * The random source for weighted choice and jitter (default: {@link ThreadLocalRandom} of the
         * calling thread). A generator given here is shared by all threads: pass a thread-safe one, or
         * a seeded {@code SplittableRandom} for single-threaded deterministic tests.
         */
        public Builder random(RandomGenerator random) {
            this.random = random;
            return this;
        }

        /** Where per-deployment state lives (default: {@link InMemoryDeploymentStateStore}). */
        public Builder stateStore(Function<List<Deployment>, DeploymentStateStore> factory) {
            this.store = java.util.Objects.requireNonNull(factory, "stateStore");
            return this;
        }

        /** The pre-call rpm/tpm check (default: the router's own per-minute counters). */
        public Builder headroomCheck(HeadroomCheck headroom) {
            this.headroom = headroom;
            return this;
        }

        /** Validates everything and builds; the message lists every problem with its path. */
        public Router build() {
            return new Router(this);
        }
    }

    // ---------------------------------------------------------------- public API

    public RouterSettings settings() {
        return settings;
    }

    /** The deployments, in configuration order, with generated ids filled in. */
    public List<Deployment> deployments() {
        return Collections.unmodifiableList(Arrays.asList(deployments));
    }

    /** The deployment with this id, or null. */
    public Deployment deployment(String id) {
        Integer i = byId.get(id);
        return i == null ? null : deployments[i];
    }

    /** The model group names, as configured. */
    public List<String> modelGroups() {
        return List.copyOf(new TreeSet<>(groups.keySet()));
    }

    /**
     * Picks a deployment for one request, without retries or fallbacks and without changing any
     * state: report the call with {@link #recordStart} and its outcome with {@link #recordSuccess} /
     * {@link #recordFailure}.
     *
     * @throws RouterException when the model is unknown (400) or no deployment can take the request
     *                         (429 naming the group and why, or 400 for a prompt too long for all)
     */
    public Deployment route(String model, RouteRequest request) {
        long now = nanoTime.getAsLong();
        Object target = resolve(model);
        if (target instanceof Deployment d) return d;
        Pool pool = pool((Group) target, request.tags());
        int d = select(pool, request, now);
        return deployments[d];
    }

    /** Starts a retry/fallback session for one request; see {@link RoutingSession}. Never throws for routing reasons. */
    public RoutingSession begin(String model, RouteRequest request) {
        return new RoutingSession(this, model, request == null ? RouteRequest.EMPTY : request);
    }

    /** Reports that a call to this deployment starts (in flight +1, one request this minute). */
    public void recordStart(Deployment deployment) {
        recordStart(slot(deployment));
    }

    /**
     * Reports a successful call: in flight -1, tokens this minute, one success, a latency sample
     * (nanoseconds per completion token, and time to first token per token when streamed).
     *
     * @param ttftNanos time to first token, or 0 when not streamed
     */
    public void recordSuccess(Deployment deployment, long latencyNanos, long ttftNanos, long promptTokens, long completionTokens) {
        recordSuccess(slot(deployment), latencyNanos, ttftNanos, promptTokens, completionTokens);
    }

    /**
     * Reports a failed call: in flight -1, one failure this minute, and cooldown by LiteLLM's rules.
     *
     * @param status           upstream HTTP status, 0 for a connection error
     * @param retryAfterMillis the upstream's Retry-After, or 0
     * @return whether the deployment is now cooling down
     */
    public boolean recordFailure(Deployment deployment, int status, long retryAfterMillis, ErrorClass errorClass) {
        return recordFailure(slot(deployment), status, retryAfterMillis, errorClass);
    }

    /** Whether this deployment is cooling down now. */
    public boolean isInCooldown(Deployment deployment) {
        return inCooldown(slot(deployment), nanoTime.getAsLong());
    }

    /**
     * Re-enables deployments whose cooldown has ended and returns the nanoseconds until the next one
     * ends (Long.MAX_VALUE if none). Selection calls this by itself; a server may also call it on a
     * timer.
     */
    public long cleanup(long nowNanos) {
        expireCooldowns(nowNanos, true);
        return expiryPending ? Math.max(0, nextExpiry - nowNanos) : Long.MAX_VALUE;
    }

    /** Recomputes every index from the store: for a store shared with other instances, call periodically. */
    public void refreshFromStore() {
        long now = nanoTime.getAsLong();
        for (int d = 0; d < deployments.length; d++) {
            // cooldowns another instance started: this instance must also bring them back
            if (inCooldown(d, now)) scheduleExpiry(d, store.cooldownUntil(d));
        }
        for (Group g : groups.values()) {
            rebuild(g.all);
            if (g.untagged != g.all) rebuild(g.untagged);
            for (Pool p : g.byTags.values()) rebuild(p);
        }
    }

    private static void rebuild(Pool p) {
        for (Tier t : p.tiers) t.rebuild();
    }

    // ---------------------------------------------------------------- resolution

    /** A {@link Group} or, for a deployment id, the {@link Deployment}; throws 400 when nothing matches. */
    Object resolve(String model) {
        if (model == null || model.isEmpty()) {
            throw new RouterException(400, ErrorClass.BAD_REQUEST, String.valueOf(model), 0,
                    "model: " + (model == null ? "missing" : "empty") + " (expected: a model group, alias or deployment id)");
        }
        Object cached = resolveCache.get(model);
        if (cached != null) return cached;
        Object r = resolveUncached(model);
        if (r == null) {
            throw new RouterException(400, ErrorClass.BAD_REQUEST, model, 0, "Invalid model name passed in model=" + model
                    + ": no deployment id, model group, model_group_alias or wildcard group matches (model groups: "
                    + abbreviated(modelGroups()) + ")");
        }
        if (resolveCache.size() < MAX_RESOLVE_CACHE) resolveCache.put(model, r);
        return r;
    }

    private Object resolveUncached(String model) {
        Integer id = byId.get(model);
        if (id != null) return deployments[id];
        Group g = groups.get(model);
        if (g != null) return g;
        String alias = settings.modelGroupAlias().get(model);
        if (alias != null && (g = groups.get(alias)) != null) return g;
        String name = alias != null ? alias : model;
        for (Group w : wildcards) {
            if (w.matches(name)) return w;
        }
        return catchAll;
    }

    /** The model group a name resolves to (for a deployment id: its group), or null when none. */
    String groupName(String model) {
        try {
            Object r = resolve(model);
            return r instanceof Deployment d ? d.modelName() : ((Group) r).name;
        } catch (RouterException e) {
            return null;
        }
    }

    private static String abbreviated(List<String> names) {
        return names.size() <= 10 ? String.join(", ", names) : String.join(", ", names.subList(0, 10)) + ", ... (" + names.size() + " in all)";
    }

    Pool pool(Group g, List<String> tags) {
        if (!settings.enableTagFiltering()) return g.all;
        if (tags.isEmpty()) return g.untagged;
        String key = tags.size() == 1 ? tags.get(0) : String.join("\n", new TreeSet<>(tags));
        Pool p = g.byTags.get(key);
        if (p != null) return p;
        int[] members = Arrays.stream(g.members).filter(d -> {
            for (String t : deployments[d].tags()) if (tags.contains(t)) return true;
            return false;
        }).toArray();
        if (members.length == 0) {
            throw new RouterException(400, ErrorClass.BAD_REQUEST, g.name, 0, "No deployments available for model group '" + g.name
                    + "' with tags " + tags + ": no deployment of the group carries any of them (tag routing)");
        }
        if (g.byTags.size() >= MAX_TAG_POOLS) return new Pool(this, g.name, members, false);
        synchronized (g) {
            p = g.byTags.get(key);
            if (p == null) {
                p = newPool(g.name, members);
                g.byTags.put(key, p);
            }
        }
        return p;
    }

    // ---------------------------------------------------------------- selection

    int select(Pool pool, RouteRequest request, long now) {
        if (expiryPending && now - nextExpiry >= 0) expireCooldowns(now, false);
        RandomGenerator rnd = random != null ? random : ThreadLocalRandom.current();
        long minute = minuteOf(now);
        int d = pool.pick(request.inputTokens(), request.stream(), now, minute, rnd);
        // the indexes may lag the store (an expiry being processed by another thread, another
        // instance's reports): an exact scan decides before the request is refused
        if (d < 0) d = pool.scan(request.inputTokens(), request.stream(), now, minute, rnd);
        if (d < 0) throw unavailable(pool, request, now);
        return d;
    }

    /** Whether deployment {@code d} of tier {@code t} can take this request now (the checks the index cannot hold). */
    boolean passes(Tier t, int d, long tokens, long now, long minute) {
        if (inCooldown(d, now)) return false;
        RoutingStrategy s = t.strategy;
        // the usage, latency and cost strategies skip deployments over their limits by themselves
        if (s != RoutingStrategy.SIMPLE_SHUFFLE && s != RoutingStrategy.LEAST_BUSY && !hasOwnHeadroom(d, tokens, minute)) return false;
        if (!settings.enablePreCallChecks()) return true;
        if (tokens > t.minMaxInputTokens && tokens > maxInputTokens[d]) return false;
        return hasHeadroom(d, tokens, minute);
    }

    /** The pre-call rpm/tpm check: the injected {@link HeadroomCheck}, else the router's own counters. */
    private boolean hasHeadroom(int d, long tokens, long minute) {
        return headroom != null ? headroom.hasHeadroom(deployments[d], tokens) : hasOwnHeadroom(d, tokens, minute);
    }

    private boolean hasOwnHeadroom(int d, long tokens, long minute) {
        Deployment dep = deployments[d];
        if (dep.rpm() != Deployment.UNSET && store.requestsInMinute(d, minute) + 1 > dep.rpm()) return false;
        return dep.tpm() == Deployment.UNSET || store.tokensInMinute(d, minute) + tokens <= dep.tpm();
    }

    /** Over its rpm or tpm limit whatever the prompt: out of the usage, latency and cost indexes until the minute ends. */
    boolean overLimit(int d, long minute) {
        Deployment dep = deployments[d];
        if (dep.rpm() != Deployment.UNSET && store.requestsInMinute(d, minute) + 1 > dep.rpm()) return true;
        return dep.tpm() != Deployment.UNSET && store.tokensInMinute(d, minute) > dep.tpm();
    }

    boolean inCooldown(int d, long now) {
        long until = store.cooldownUntil(d);
        return until != DeploymentStateStore.NO_COOLDOWN && until - now > 0;
    }

    /** Explains why no deployment of the pool was chosen: an O(n) scan, on the failure path only. */
    private RouterException unavailable(Pool pool, RouteRequest request, long now) {
        long minute = minuteOf(now);
        int cooling = 0, tooSmall = 0, limited = 0, noHeadroom = 0, other = 0;
        long soonest = Long.MAX_VALUE;
        long largestWindow = 0;
        RoutingStrategy s = settings.routingStrategy();
        boolean strategyLimits = s != RoutingStrategy.SIMPLE_SHUFFLE && s != RoutingStrategy.LEAST_BUSY;
        for (int d : pool.members) {
            largestWindow = Math.max(largestWindow, maxInputTokens[d]);
            if (inCooldown(d, now)) {
                cooling++;
                soonest = Math.min(soonest, store.cooldownUntil(d) - now);
            } else if (settings.enablePreCallChecks() && request.inputTokens() > maxInputTokens[d]) {
                tooSmall++;
            } else if (strategyLimits && !hasOwnHeadroom(d, request.inputTokens(), minute)) {
                limited++;
            } else if (settings.enablePreCallChecks() && !hasHeadroom(d, request.inputTokens(), minute)) {
                noHeadroom++;
            } else {
                other++; // freed between the scan and this count
            }
        }
        int n = pool.members.length;
        String g = pool.group;
        if (tooSmall > 0 && cooling + limited + noHeadroom + other == 0) {
            return new RouterException(400, ErrorClass.CONTEXT_WINDOW_EXCEEDED, g, 0, "Context window exceeded for model group '" + g
                    + "': the prompt has " + request.inputTokens() + " tokens, the largest max_input_tokens of its "
                    + n + " deployment(s) is " + largestWindow);
        }
        StringBuilder cause = new StringBuilder();
        if (cooling > 0) cause.append(cooling).append(" in cooldown");
        if (limited > 0) cause.append(cause.length() > 0 ? ", " : "").append(limited).append(" at their rpm/tpm limit this minute");
        if (tooSmall > 0) cause.append(cause.length() > 0 ? ", " : "").append(tooSmall).append(" with max_input_tokens below the prompt's ")
                .append(request.inputTokens()).append(" tokens");
        if (noHeadroom > 0) cause.append(cause.length() > 0 ? ", " : "").append(noHeadroom).append(" without rate-limit headroom");
        if (other > 0) cause.append(cause.length() > 0 ? ", " : "").append(other).append(" freed while routing: retry");
        long retryAfter;
        if (cooling == n) {
            retryAfter = Math.max(1, (soonest + 999_999) / 1_000_000);
            cause.append("; the next leaves cooldown in ").append(String.format(java.util.Locale.ROOT, "%.1f", soonest / 1e9)).append(" s");
        } else {
            long toNextMinute = MINUTE_NANOS - Math.floorMod(now, MINUTE_NANOS);
            retryAfter = Math.max(1, Math.min(soonest, toNextMinute) / 1_000_000);
        }
        return new RouterException(429, ErrorClass.RATE_LIMIT, g, retryAfter, "No deployments available for model group '" + g
                + "': all " + n + " deployment(s) are unavailable (" + cause + ")");
    }

    /** Whether the pool has a deployment out of cooldown other than {@code except}: LiteLLM then retries without waiting. */
    boolean hasOtherHealthy(Pool pool, int except, long now) {
        for (int d : pool.members) {
            if (d != except && !inCooldown(d, now)) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- reports

    int slot(Deployment deployment) {
        Integer i = deployment == null ? null : byId.get(deployment.id());
        if (i == null || deployments[i] != deployment && !deployments[i].modelName().equals(deployment.modelName())) {
            throw new IllegalArgumentException("deployment: " + deployment + " (expected: a deployment of this router)");
        }
        return i;
    }

    void recordStart(int d) {
        long now = nanoTime.getAsLong();
        long minute = minuteOf(now);
        store.addInFlight(d, 1);
        store.addUsage(d, minute, 1, 0);
        refresh(d, IN_FLIGHT | REQUESTS);
    }

    /** A call ended without an outcome (the client left): only its in-flight count is given back. */
    void recordAbandon(int d) {
        store.addInFlight(d, -1);
        refresh(d, IN_FLIGHT);
    }

    void recordSuccess(int d, long latencyNanos, long ttftNanos, long promptTokens, long completionTokens) {
        long now = nanoTime.getAsLong();
        long minute = minuteOf(now);
        store.addInFlight(d, -1);
        store.addUsage(d, minute, 0, Math.max(0, promptTokens) + Math.max(0, completionTokens));
        store.recordOutcome(d, minute, true);
        long perToken = Math.max(1, completionTokens);
        if (latencyNanos > 0) store.addLatencySample(d, false, latencyNanos / perToken);
        if (ttftNanos > 0) store.addLatencySample(d, true, ttftNanos / perToken);
        refresh(d, IN_FLIGHT | TOKENS | LATENCY);
    }

    boolean recordFailure(int d, int status, long retryAfterMillis, ErrorClass errorClass) {
        long now = nanoTime.getAsLong();
        long minute = minuteOf(now);
        store.addInFlight(d, -1);
        store.recordOutcome(d, minute, false);
        if (errorClass == ErrorClass.TIMEOUT) store.addLatencySample(d, false, TIMEOUT_PENALTY_NANOS);
        int effective = status <= 0 ? (errorClass == ErrorClass.TIMEOUT ? 408 : 500) : status;
        boolean cool = shouldCooldown(d, effective, minute);
        if (cool) {
            long nanos;
            Deployment dep = deployments[d];
            if (dep.cooldownTime() != null) nanos = dep.cooldownTime().toNanos();
            else if (retryAfterMillis > 0) nanos = Duration.ofMillis(retryAfterMillis).toNanos();
            else nanos = settings.cooldownTime().toNanos();
            if (nanos > 0) {
                store.setCooldownUntil(d, now + nanos);
                scheduleExpiry(d, now + nanos);
            } else {
                cool = false;
            }
        }
        refresh(d, IN_FLIGHT | (errorClass == ErrorClass.TIMEOUT ? LATENCY : 0) | (cool ? COOLDOWN : 0));
        return cool;
    }

    /**
     * LiteLLM's {@code _is_cooldown_required} and {@code _should_cooldown_deployment}
     * ({@code router_utils/cooldown_handlers.py}): only 429, 401, 404, 408 and 5xx count. With
     * {@code allowed_fails} set, that count alone decides: more failures this minute than allowed.
     * Otherwise, in order: a 429 in a group of several deployments; every request of the minute
     * failed and there were at least {@value #SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD} of them
     * (even the only deployment of a group); more than half failed with at least
     * {@value #FAILURE_THRESHOLD_MINIMUM_REQUESTS} requests this minute (LiteLLM's fix of a first
     * failure being a 100 % failure rate); a non-retryable error (401, 404), at once.
     *
     * <p>Deliberately unlike LiteLLM: the only deployment of a group is not cooled by a non-retryable
     * error nor by {@code allowed_fails}, so its client keeps getting the upstream's own error (401,
     * 404, 5xx) instead of a 429 "no deployments available" that hides the cause; and an
     * {@code allowed_fails} equal to LiteLLM's global default (3) counts as set.
     */
    private boolean shouldCooldown(int d, int status, long minute) {
        if (settings.disableCooldowns()) return false;
        boolean counts = status == 429 || status == 401 || status == 404 || status == 408 || status >= 500 || status < 400;
        if (!counts) return false;
        boolean single = groupOf[d].members.length <= 1;
        long fails = store.failuresInMinute(d, minute); // this failure included
        if (settings.allowedFails() >= 0) return !single && fails > settings.allowedFails();
        if (status == 429 && !single) return true;
        long total = fails + store.successesInMinute(d, minute);
        if (fails == total && total >= SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD) return true;
        if (single) return false;
        if (total >= FAILURE_THRESHOLD_MINIMUM_REQUESTS && (double) fails / total > 0.5) return true;
        boolean retryable = status == 408 || status == 409 || status == 429 || status >= 500;
        return !retryable;
    }

    /** LiteLLM's {@code DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS}. */
    static final int FAILURE_THRESHOLD_MINIMUM_REQUESTS = 5;
    /** LiteLLM's {@code SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD}. */
    static final int SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD = 1000;

    // what a report changed, so that only the indexes whose keys depend on it take their lock
    private static final int IN_FLIGHT = 1, REQUESTS = 2, TOKENS = 4, LATENCY = 8, COOLDOWN = 16;

    private void refresh(int d, int changed) {
        Deployment dep = deployments[d];
        boolean rpm = dep.rpm() != Deployment.UNSET;
        boolean tpm = dep.tpm() != Deployment.UNSET;
        // the usage, latency and cost keys turn INF when a limit is reached
        boolean limits = (changed & REQUESTS) != 0 && rpm || (changed & TOKENS) != 0 && tpm;
        for (Membership m : memberships.get(d)) {
            boolean affected = (changed & COOLDOWN) != 0 || switch (m.tier.strategy) {
                case SIMPLE_SHUFFLE -> false;
                case LEAST_BUSY -> (changed & IN_FLIGHT) != 0;
                case USAGE_BASED_ROUTING, USAGE_BASED_ROUTING_V2 -> (changed & TOKENS) != 0 || limits;
                case LATENCY_BASED_ROUTING -> (changed & LATENCY) != 0 || limits;
                case COST_BASED_ROUTING -> limits;
            };
            if (affected) m.tier.refresh(m.pos);
        }
    }

    private void scheduleExpiry(int d, long until) {
        expiryLock.lock();
        try {
            expiries.add(new long[] {until, d});
            long head = expiries.peek()[0];
            nextExpiry = head;
            expiryPending = true;
        } finally {
            expiryLock.unlock();
        }
    }

    private void expireCooldowns(long now, boolean wait) {
        if (!expiryPending || now - nextExpiry < 0) return;
        if (wait) expiryLock.lock();
        else if (!expiryLock.tryLock()) return;
        try {
            while (!expiries.isEmpty() && now - expiries.peek()[0] >= 0) {
                int d = (int) expiries.poll()[1];
                if (!inCooldown(d, now)) refresh(d, COOLDOWN);
            }
            if (expiries.isEmpty()) {
                expiryPending = false;
            } else {
                nextExpiry = expiries.peek()[0];
            }
        } finally {
            expiryLock.unlock();
        }
    }

    // ---------------------------------------------------------------- for the session and tiers

    Deployment deployment(int d) {
        return deployments[d];
    }

    DeploymentStateStore store() {
        return store;
    }

    long maxInputTokens(int d) {
        return maxInputTokens[d];
    }

    long costKey(int d) {
        return costKeys[d];
    }

    long now() {
        return nanoTime.getAsLong();
    }

    RandomGenerator random() {
        return random != null ? random : ThreadLocalRandom.current();
    }

    static long minuteOf(long nanos) {
        return Math.floorDiv(nanos, MINUTE_NANOS);
    }

    /** The fallback groups for a failure of {@code group} with this error, LiteLLM's way ("*" as default). */
    List<String> fallbacksFor(String group, ErrorClass errorClass) {
        if (errorClass == ErrorClass.CONTEXT_WINDOW_EXCEEDED) {
            List<String> l = lookup(settings.contextWindowFallbacks(), group);
            if (l != null) return l;
        } else if (errorClass == ErrorClass.CONTENT_POLICY) {
            List<String> l = lookup(settings.contentPolicyFallbacks(), group);
            if (l != null) return l;
        }
        List<String> l = lookup(settings.fallbacks(), group);
        return l == null ? List.of() : l;
    }

    boolean hasSpecificFallback(String group, ErrorClass errorClass) {
        if (errorClass == ErrorClass.CONTEXT_WINDOW_EXCEEDED) return lookup(settings.contextWindowFallbacks(), group) != null;
        if (errorClass == ErrorClass.CONTENT_POLICY) return lookup(settings.contentPolicyFallbacks(), group) != null;
        return false;
    }

    private static List<String> lookup(Map<String, List<String>> m, String group) {
        List<String> l = m.get(group);
        return l != null ? l : m.get("*");
    }
}
