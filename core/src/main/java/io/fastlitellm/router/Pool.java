package io.fastlitellm.router;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * The deployments one request may go to (a model group, possibly narrowed by tags), split into
 * tiers by {@code order}: lowest order first, deployments without an order last, as LiteLLM only
 * uses those when no ordered deployment is available.
 */
final class Pool {
    final String group;
    final int[] members;
    final Tier[] tiers;

    Pool(Router router, String group, int[] members, boolean indexed) {
        this.group = group;
        this.members = members;
        TreeMap<Long, List<Integer>> byOrder = new TreeMap<>();
        for (int d : members) {
            long order = router.deployment(d).order();
            byOrder.computeIfAbsent(order == Deployment.UNSET ? Long.MAX_VALUE : order, k -> new ArrayList<>()).add(d);
        }
        List<Tier> list = new ArrayList<>();
        for (List<Integer> ds : byOrder.values()) {
            int[] arr = ds.stream().mapToInt(Integer::intValue).toArray();
            list.add(new Tier(router, router.settings().routingStrategy(), arr, indexed));
        }
        this.tiers = list.toArray(new Tier[0]);
    }

    int pick(long tokens, boolean stream, long now, long minute, RandomGenerator random) {
        for (Tier t : tiers) {
            int d = t.pick(tokens, stream, now, minute, random);
            if (d >= 0) return d;
        }
        return -1;
    }

    /** The exact choice by scanning every tier in order: O(n), for when the indexes found nothing. */
    int scan(long tokens, boolean stream, long now, long minute, RandomGenerator random) {
        for (Tier t : tiers) {
            int d = t.scan(tokens, stream, now, minute, random);
            if (d >= 0) return d;
        }
        return -1;
    }
}
