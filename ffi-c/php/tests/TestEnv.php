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

    /**
     * Builder input (as examples/builder/vat-shop.json) for an invoice of the seller the
     * simulator accepts, numbered `$number`, issued today (UTC).
     *
     * @return array<string, mixed>
     */
    public static function builder(string $number): array
    {
        $today = gmdate('Y-m-d');
        return [
            'kind' => 'vat',
            'method' => 'net',
            'header' => [
                'number' => $number,
                'issue_date' => $today,
                'created_at' => gmdate('Y-m-d\\TH:i:s\\Z'),
                'sale_date' => $today,
                'place' => 'Warszawa',
                'system_info' => 'ksef PHP tests',
            ],
            'seller' => [
                'nip' => '5265877635',
                'name' => 'Sklep Zimnotech sp. z o.o.',
                'address' => ['country' => 'PL', 'line1' => 'ul. Kwiatowa 1', 'line2' => '00-001 Warszawa'],
            ],
            'buyer' => [
                'id' => ['type' => 'nip', 'value' => '1111111111'],
                'name' => 'F.H.U. Jan Kowalski',
                'address' => ['country' => 'PL', 'line1' => 'ul. Polna 1', 'line2' => '00-001 Warszawa'],
            ],
            'currency' => 'PLN',
            'lines' => [
                ['name' => 'lodówka Zimnotech mk1', 'quantity' => '1', 'unit' => 'szt.', 'unit_price_net' => '1626.01', 'rate' => '23'],
                ['name' => 'mleko', 'quantity' => '2', 'unit' => 'szt.', 'unit_price_net' => '2.49', 'rate' => '5'],
            ],
        ];
    }

    /** An HTTP GET returning the decoded JSON body (for checking the simulator's Fakturownia). */
    public static function getJson(string $url): mixed
    {
        $body = file_get_contents($url, false, stream_context_create(['http' => ['ignore_errors' => true, 'proxy' => '']]));
        return $body === false ? null : json_decode($body, true);
    }
}
