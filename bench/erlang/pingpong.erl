%% Savina PingPong in Erlang/OTP, the reference actor runtime for troupe's
%% bench/savina.ts: a ping process sends N pings to a pong process, one at a
%% time; each is answered by a pong (2N messages). Prints one JSON line with
%% the milliseconds of each recorded run.
%%
%%   erlc pingpong.erl && erl -noshell -eval 'pingpong:main(40000, 5, 1), init:stop().'
-module(pingpong).
-export([main/3]).

main(N, Runs, Warmups) ->
    [run(N) || _ <- lists:seq(1, Warmups)],
    Ms = [run(N) || _ <- lists:seq(1, Runs)],
    io:format("{\"bench\":\"pingpong\",\"n\":~b,\"schedulers\":~b,\"otp\":\"~s\",\"ms\":[~s]}~n",
              [N, erlang:system_info(schedulers_online), erlang:system_info(otp_release), join(Ms)]).

run(N) ->
    Parent = self(),
    Pong = spawn(fun pong/0),
    Ping = spawn(fun() -> receive start -> ping(Pong, N, Parent) end end),
    T0 = erlang:monotonic_time(nanosecond),
    Ping ! start,
    receive done -> ok end,
    T1 = erlang:monotonic_time(nanosecond),
    Pong ! stop,
    (T1 - T0) / 1.0e6.

ping(_Pong, 0, Parent) ->
    Parent ! done;
ping(Pong, Left, Parent) ->
    Pong ! {ping, self()},
    receive pong -> ping(Pong, Left - 1, Parent) end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

join(Values) ->
    string:join([io_lib:format("~.3f", [V]) || V <- Values], ",").
