<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Ffi;
use Ksef\Ids;
use Ksef\InvalidInputException;
use Ksef\KsefException;
use Ksef\Sha256;
use PHPUnit\Framework\TestCase;

final class IdsTest extends TestCase
{
    public function testVersionAndResultNames(): void
    {
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', Ffi::version());
        $this->assertSame('ok', Ffi::resultName(0));
        $this->assertSame('invalid_value', Ffi::resultName(105));
        $this->assertSame('json_syntax', Ffi::resultName(106));
        $this->assertNull(Ffi::resultName(99999));
    }

    public function testValidNipPasses(): void
    {
        Ids::checkNip('5265877635');
        $this->assertTrue(Ids::isValidNip('5265877635'));
    }

    public function testWrongNipChecksumIsInvalidValueAtNip(): void
    {
        $this->assertFalse(Ids::isValidNip('5265877636'));
        try {
            Ids::checkNip('5265877636');
            $this->fail('a wrong checksum must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(105, $e->getCode());
            $this->assertSame('invalid_value', $e->getName());
            $this->assertSame('nip', $e->getPath());
            $this->assertStringContainsString('105', $e->getMessage());
        }
    }

    public function testNipWithSeparatorsOrLettersIsRefused(): void
    {
        foreach (['526-587-76-35', '52658776', 'abcdefghij', ''] as $bad) {
            try {
                Ids::checkNip($bad);
                $this->fail("'$bad' must be refused");
            } catch (KsefException $e) {
                $this->assertSame(105, $e->getCode(), $bad);
            }
        }
    }

    public function testNipThatIsNotUtf8IsEncodingError(): void
    {
        try {
            Ids::checkNip("52658\xff7635");
            $this->fail('bad UTF-8 must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(107, $e->getCode());
            $this->assertSame('encoding', $e->getName());
            $this->assertSame('nip', $e->getPath());
        }
    }

    public function testKsefNumberChecksum(): void
    {
        // A number the simulator issued (CRC-8 checked by the core's tests).
        $good = '5265877635-20250826-0100001AF629-AF';
        Ids::checkKsefNumber($good);
        $this->assertTrue(Ids::isValidKsefNumber($good));
        $bad = substr($good, 0, -2) . '00';
        $this->assertFalse(Ids::isValidKsefNumber($bad));
        try {
            Ids::checkKsefNumber($bad);
            $this->fail('a wrong CRC must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame(400, $e->getCode());
            $this->assertSame('ksef_number', $e->getName());
            $this->assertSame('number', $e->getPath());
        }
    }

    public function testSha256MatchesPhp(): void
    {
        foreach (['', 'abc', str_repeat("\x00\xff", 700)] as $data) {
            $this->assertSame(hash('sha256', $data, true), Ids::sha256($data));
            $this->assertSame(hash('sha256', $data), Ids::sha256Hex($data));
            $b64 = base64_encode(hash('sha256', $data, true));
            $this->assertSame($b64, Ids::sha256Base64($data));
            $this->assertSame(rtrim(strtr($b64, '+/', '-_'), '='), Ids::sha256Base64($data, true));
        }
    }

    public function testIncrementalSha256(): void
    {
        $h = new Sha256();
        $h->update('ab')->update('')->update('c');
        $this->assertSame(hash('sha256', 'abc', true), $h->finish());
        $this->expectException(\LogicException::class);
        $h->update('x');
    }

    public function testUnfinishedHasherIsFreed(): void
    {
        $h = new Sha256();
        $h->update('abc');
        unset($h);
        $this->assertSame(hash('sha256', '', true), (new Sha256())->finish());
    }
}
