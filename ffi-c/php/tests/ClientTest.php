<?php

declare(strict_types=1);

namespace Ksef\Tests;

use Ksef\Client;
use Ksef\InvalidInputException;
use Ksef\KsefException;
use PHPUnit\Framework\TestCase;

final class ClientTest extends TestCase
{
    private const SECRET = 'secret-ksef-token-123';

    /**
     * @return array<string, array{0: array<mixed>|string, 1: int, 2: string}>
     */
    public function badSettings(): array
    {
        return [
            'bad JSON' => ['{"nip":', 106, 'json_syntax'],
            'bad UTF-8' => ["{\"nip\":\"52658\xff77635\"}", 107, 'encoding'],
            'no environment' => [['nip' => '5265877635', 'ksef_token' => self::SECRET], 105, 'environment'],
            'unknown key' => [['environment' => 'test', 'nip' => '5265877635', 'ksef_token' => self::SECRET, 'bogus' => 1], 105, 'bogus'],
            'wrong NIP' => [['environment' => 'test', 'nip' => '5265877636', 'ksef_token' => self::SECRET], 105, 'nip'],
            'unknown environment' => [['environment' => 'staging', 'nip' => '5265877635', 'ksef_token' => self::SECRET], 105, 'environment'],
            'not a URL' => [['base_url' => 'ftp://x', 'nip' => '5265877635', 'ksef_token' => self::SECRET], 105, 'base_url'],
        ];
    }

    /**
     * @dataProvider badSettings
     * @param array<mixed>|string $settings
     */
    public function testBadSettingsThrowWithCodeAndPath(array|string $settings, int $code, string $pathOrName): void
    {
        try {
            new Client($settings);
            $this->fail('bad settings must throw');
        } catch (InvalidInputException $e) {
            $this->assertSame($code, $e->getCode(), $e->getMessage());
            if ($code === 105) {
                $this->assertSame($pathOrName, $e->getPath());
            } else {
                $this->assertSame($pathOrName, $e->getName());
            }
            $this->assertStringNotContainsString(self::SECRET, $e->getMessage());
        }
    }

    public function testPhpStringThatIsNotUtf8CannotBeEncoded(): void
    {
        $this->expectException(KsefException::class);
        $this->expectExceptionCode(107);
        new Client(['environment' => 'test', 'nip' => "\xff", 'ksef_token' => self::SECRET]);
    }

    public function testGoodSettingsMakeAClientThatCanBeClosed(): void
    {
        $c = new Client(['environment' => 'test', 'nip' => '5265877635', 'ksef_token' => self::SECRET]);
        $c->close();
        $c->close();
        $this->expectException(\LogicException::class);
        $c->raw();
    }
}
