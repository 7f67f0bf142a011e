<?php

declare(strict_types=1);

namespace Ksef\Tests;

use PHPUnit\Framework\TestCase;

/** Paths and URLs the tests need, from the environment `make php-test` sets up. */
final class TestEnv
{
    /** The repository root. */
    public static function root(): string
    {
        return dirname(__DIR__, 3);
    }

    /** The simulator's KSeF base URL (`http://127.0.0.1:PORT/v2`); fails the test without it. */
    public static function simUrl(TestCase $t): string
    {
        $url = getenv('KSEF_SIM_URL');
        if (!is_string($url) || $url === '') {
            $t->fail('KSEF_SIM_URL is not set (make php-test starts the simulator)');
        }
        return rtrim($url, '/');
    }

    /** The simulator's host part (`http://127.0.0.1:PORT`), for /fakturownia and /nbp. */
    public static function simHost(TestCase $t): string
    {
        return (string) preg_replace('#/v2$#', '', self::simUrl($t));
    }

    /** The spec folder (official samples); fails the test without it. */
    public static function spec(TestCase $t): string
    {
        $spec = getenv('KSEF_SPEC');
        if (!is_string($spec) || $spec === '') {
            $spec = self::root() . '/../shared/ksef-spec';
        }
        if (!is_dir($spec)) {
            $t->fail("the spec folder $spec is missing (set KSEF_SPEC)");
        }
        return $spec;
    }
}
