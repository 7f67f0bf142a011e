<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Ids;
use Ksef\KsefException;
use Ksef\Qr;
use PHPUnit\Framework\TestCase;

final class QrTest extends TestCase
{
    private function sample(): string
    {
        $xml = file_get_contents(TestEnv::spec($this) . '/samples/fa3/FA_3_Przyklad_01.xml');
        $this->assertIsString($xml);
        return $xml;
    }

    public function testKod1LinkCarriesNipDateAndHash(): void
    {
        $xml = $this->sample();
        $url = Qr::invoiceUrl('test', $xml);
        $this->assertStringStartsWith('https://qr-test.ksef.mf.gov.pl/invoice/', $url);
        $this->assertStringEndsWith('/' . Ids::sha256Base64($xml, true), $url);
        preg_match('#<NIP>(\d{10})</NIP>#', $xml, $m);
        $this->assertStringContainsString('/' . $m[1] . '/', $url);
    }

    public function testPngSvgAndMatrix(): void
    {
        $url = Qr::invoiceUrl('test', $this->sample());
        $png = Qr::png($url, 'OFFLINE');
        $this->assertStringStartsWith("\x89PNG\r\n\x1a\n", $png);
        $svg = Qr::svg($url, 'OFFLINE');
        $this->assertStringContainsString('<svg', $svg);
        $m = Qr::matrix($url);
        $w = count($m);
        $this->assertGreaterThanOrEqual(21, $w);
        $this->assertSame(1, ($w - 17) % 4 === 0 ? 1 : 0, 'a QR side is 17 + 4 * version');
        foreach ($m as $row) {
            $this->assertCount($w, $row);
        }
        // The finder pattern's top-left corner is dark, the separator next to it light.
        $this->assertTrue($m[0][0]);
        $this->assertFalse($m[7][7]);
    }

    public function testUnknownEnvironmentIsRefused(): void
    {
        try {
            Qr::invoiceUrl('staging', $this->sample());
            $this->fail('an unknown environment must throw');
        } catch (KsefException $e) {
            $this->assertSame(105, $e->getCode());
        }
    }

    public function testBadEccIsInvalidArgument(): void
    {
        $this->expectExceptionCode(901);
        Qr::matrix('x', 'Z');
    }
}
