import { Injectable, Module } from '@nestjs/common';

// A stand-in for `ConfigModule` / `ConfigService` of `@nestjs/config` (not a dependency of this repository), with
// the two methods README "1." uses, reading `process.env` as the real one does by default.

@Injectable()
export class ConfigService {
  get<T = any>(key: string, defaultValue?: T): T {
    return (process.env[key] ?? defaultValue) as T;
  }

  getOrThrow<T = any>(key: string): T {
    const value = process.env[key];
    if (value === undefined) throw new TypeError(`Configuration key "${key}" does not exist`);
    return value as T;
  }
}

@Module({ providers: [ConfigService], exports: [ConfigService] })
export class ConfigModule {}
